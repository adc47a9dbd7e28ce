"""Translations of benchmark items: a candidate in another language is checked again in English.

The stages compare words (n-grams, fuzzy ratios) and MiniLM embeddings, which are English-only: a
Chinese translation of a benchmark item is clean to all of them. So a candidate whose text (question,
choices and answer; benchmint.language) is in another language is translated into English by a model
(the contamination judge's client, else the generator's) and checked again; it is contaminated when
either version is. English text, and text too short to name a language, costs nothing: no call.
A translation that fails (an unreachable model, a reply that is not the schema's) leaves the candidate
unchecked after translation: not published, never a silent pass (as with the judge).

A small model given a long item (a passage, then the question) writes the question alone, given a
list of statements it may copy them back untranslated or sum them up in one question, and it leaves quoted
terms in their own script; so a question over `_SEGMENT_FROM` characters, one whose translation still holds
words of its language's script, or came back shorter than `shorter_than` of it, is translated again a
passage at a time (`segments`), each segment retried once when it comes back untranslated. Words still in
the language's own script are then left out of the English version: MiniLM reads them as noise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, Field, ValidationError

from benchmint.errors import BenchmintError
from benchmint.fence import fence
from benchmint.language import STOP_WORDS, detect_language, own_script_words, without_own_script
from benchmint.prompts import Prompt, load_prompt
from benchmint.records import LETTERS
from validators.contamination.findings import Detection, Probe, reason_of

LANGUAGE_NAMES = {"zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ru": "Russian", "uk": "Ukrainian",
                  "ar": "Arabic", "fa": "Persian", "el": "Greek", "he": "Hebrew", "hi": "Hindi", "th": "Thai",
                  "fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
                  "nl": "Dutch"}

_STOP = {k: frozenset(v.split()) for k, v in STOP_WORDS.items()}
_MAX_CHARS = 6000  # a longer item is cut: its translation must fit a small model's context

_SEGMENT_FROM = 200  # a longer question is translated again segment by segment
# a question's translation shorter than this share of it (in characters) lost part of it: English runs about as
# long as other alphabetic languages, and 2.5x a Chinese text (the median on the development sample's items)
_SHORTER_THAN = {"zh": 1.3}
_SHORTER_THAN_ALPHABETIC = 0.6
_SEGMENT_CHARS = 240  # a segment: whole sentences (or lines) up to this size
_SEGMENTS_MAX_CHARS = 1500  # the segments translated; MiniLM reads the first ~256 word pieces of a text anyway
_SENTENCE = re.compile(r"(?<=[。！？；!?;])|(?<=[.] )|\n")

# what a translation call may raise or reply: recorded as that translation's failure, never raised
_FAILURES = (BenchmintError, ValidationError, ValueError, TypeError)

_LABEL = re.compile(r"^\s*\(?([A-J])\s*[.):：]\s*")  # "A. ", "(B) ", "C: ", as the prompt wrote them


class TranslatedItem(BaseModel):
    """The translator's reply: the item in English, field by field."""

    question: str = Field(description="the question in English")
    choices: list[str] = Field(default_factory=list, description="each choice in English, in order")
    answer: str = Field(default="", description="the answer in English")


class TranslatedText(BaseModel):
    """The translator's reply for one segment of a long question."""

    text: str = Field(description="the text in English")


_Reply = TypeVar("_Reply", bound=BaseModel)


class Translator(Protocol):
    """What translates: any model client (benchmint.llm.ModelClient), or a stand-in in tests."""

    def complete_json(self, messages: list[dict[str, str]], schema: type[BaseModel], **overrides: Any) -> Any: ...


@dataclass
class Translation:
    """One non-English candidate's English version, or why there is none."""

    language: str
    """The candidate's language (ISO 639-1)."""
    probe: Probe | None = None
    """The candidate in English; None when the translation failed."""
    error: str = ""
    """Why the translation failed."""


def prompt() -> Prompt:
    return load_prompt("translate_item")


def text_prompt() -> Prompt:
    return load_prompt("translate_text")


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, f"the language '{language}'")


def reply_as(schema: type[_Reply], reply: Any) -> _Reply:
    """A client's reply (the schema's model, or a dict from a stand-in) validated as `schema`."""
    return schema.model_validate(reply.model_dump() if isinstance(reply, BaseModel) else reply)


def language_of(p: Probe) -> str | None:
    """The candidate's language when it is not English (None: English, or too short to say): the
    question's, else the whole item's (short choices such as "4Z" or "2 + 4Z" outweigh a short question's
    script when counted with it)."""
    text = "\n".join([p.question, *p.choices, p.answer])
    lang = detect_language(p.question) or detect_language(text)
    if lang in (None, "en"):
        return None
    if lang in STOP_WORDS:  # a Latin-script language: English with a few "a"s and "as" reads as Portuguese
        words = [w.lower() for w in re.findall(r"[^\W\d_]+", text)]
        english, theirs = (sum(w in _STOP[k] for w in words) for k in ("en", lang))
        if 2 * english >= theirs:
            return None
    return lang


def translate_messages(p: Probe, language: str) -> list[dict[str, str]]:
    lines = [p.question.strip()[:_MAX_CHARS]]
    lines += [f"{LETTERS[j]}. {c.strip()[:400]}" for j, c in enumerate(p.choices[:10])]
    if p.answer:
        lines.append(f"Answer: {p.answer.strip()[:400]}")
    return prompt().render(item=fence("\n".join(lines), tag="item"),
                           language=language_name(language))


def shorter_than(language: str) -> float:
    return _SHORTER_THAN.get(language, _SHORTER_THAN_ALPHABETIC)


def untranslated(text: str, language: str) -> bool:
    """Whether a translation out of `language` still holds some of it: words in its script, or for a Latin-script
    language, text that reads as that language."""
    return bool(own_script_words(text, language)) or detect_language(text) == language


def segments(text: str, size: int = _SEGMENT_CHARS, budget: int = _SEGMENTS_MAX_CHARS) -> list[str]:
    """`text` cut into segments of whole sentences up to `size` characters (a longer sentence is cut at `size`),
    the first `budget` characters of it."""
    pieces = [x.strip() for x in _SENTENCE.split(text[:budget]) if x and x.strip()]
    out: list[str] = []
    for piece in (x[i: i + size] for x in pieces for i in range(0, len(x), size)):
        if out and len(out[-1]) + 1 + len(piece) <= size:
            out[-1] += " " + piece
        else:
            out.append(piece)
    return out


def translate_segment(translator: Translator, text: str, language: str) -> str:
    """One segment in English; asked again (at another temperature: another call, not the cached reply) when
    the first reply still holds some of `language`; then the reply with less of it, without its words in the
    language's script; "" when it reads as `language` still. Raises what the client raises."""
    msgs = text_prompt().render(text=fence(text, tag="excerpt"),
                                language=language_name(language))
    replies = []
    for temperature in (0.0, 0.4):
        reply = translator.complete_json(msgs, TranslatedText, temperature=temperature,
                                         max_tokens=min(1024, 128 + 3 * len(text)))
        out = reply_as(TranslatedText, reply).text.strip()
        if out and not untranslated(out, language):
            return out
        replies.append(out)
    best = min(replies, key=lambda r: sum(map(len, own_script_words(r, language))))
    best = without_own_script(best, language)
    return best if best and detect_language(best) != language and re.search(r"[^\W\d_]", best) else ""


def translate_question(translator: Translator, question: str, language: str) -> str:
    """A long question, or one the item's translation left in its language, translated segment by segment.
    A segment whose call failed, or that stayed in its language, is left out (in an English probe it would
    only blur the embedding); "" when no segment was translated: the item's own translation is kept."""
    def one(segment: str) -> str:
        try:
            return translate_segment(translator, segment, language)
        except _FAILURES:
            return ""

    return " ".join(t for t in map(one, segments(question)) if t)


def translate_one(translator: Translator, p: Probe, language: str) -> Translation:
    """One call for the item, and one a segment when its question is long or came back untranslated; a
    failure is recorded in the Translation, never raised."""
    n_chars = len(p.question) + sum(map(len, p.choices)) + len(p.answer)
    try:
        # temperature 0: the same item gets the same translation (and a response-cache hit)
        out = translator.complete_json(translate_messages(p, language), TranslatedItem, temperature=0.0,
                                       max_tokens=min(2048, 256 + 2 * n_chars))
        item = reply_as(TranslatedItem, out)
    except _FAILURES as exc:
        return Translation(language, error=f"{type(exc).__name__}: {str(exc)[:200]}")
    question = item.question.strip()
    if (len(p.question) > _SEGMENT_FROM or len(question) < shorter_than(language) * len(p.question)
            or untranslated(question, language)):
        question = translate_question(translator, p.question, language) or question
    question = without_own_script(question, language)
    if not question:
        return Translation(language, error="the translation has no question")
    if len(item.choices) != len(p.choices):  # a reply that lost a choice: keep the question, not its choices
        item.choices = []
    choices, answer = unlabelled(item.choices, item.answer)
    # a small model may copy the choices back untranslated ("六" for "6"): compared with the benchmark's
    # English they would read as another answer, so they are asked again as text, and left out when they come
    # back so again (missing evidence never clears a pair)
    if p.choices and (not choices or any(untranslated(c, language) for c in choices)):
        choices = translate_choices(translator, p.choices, language)
    if answer and untranslated(answer, language):
        k = p.choices.index(p.answer) if p.answer in p.choices else None
        answer = choices[k] if choices and k is not None else ""
    return Translation(language, Probe(p.id, question, answer, choices))


def translate_choices(translator: Translator, choices: list[str], language: str) -> list[str]:
    """Choices the item's translation lost or left in their language, asked again as one text, a labelled line
    each; [] when the reply does not give one translated line per choice (or the call fails)."""
    text = "\n".join(f"{LETTERS[j]}. {c.strip()[:400]}" for j, c in enumerate(choices[:10]))
    try:
        out = translate_segment(translator, text, language)
    except _FAILURES:
        return []
    got, _ = unlabelled([x.strip() for x in out.splitlines() if x.strip()], "")
    if len(got) != len(choices) or any(not c or untranslated(c, language) for c in got):
        return []
    return got


def unlabelled(choices: list[str], answer: str) -> tuple[list[str], str]:
    """The translated choices and answer without the letters the prompt showed them with ("A. 1" is the
    choice "1"): removed only when every choice carries its own letter in order, and from the answer only
    when what follows its letter is that choice."""
    found = [_LABEL.match(c) for c in choices]
    if not choices or not all(m and m.group(1) == LETTERS[j] for j, m in enumerate(found)):
        return [c.strip() for c in choices], answer.strip()
    bare = [c[m.end():].strip() for c, m in zip(choices, found, strict=True) if m]
    m = _LABEL.match(answer)
    k = LETTERS.index(m.group(1)) if m else len(bare)
    if k < len(bare) and answer[m.end():].strip() == bare[k]:
        answer = answer[m.end():]
    return bare, answer.strip()


def translate_all(translator: Translator, probes: Sequence[Probe]) -> dict[int, Translation]:
    """The English version of every non-English candidate, by index; as many calls at once as the
    client's concurrency allows."""
    todo = [(i, lang) for i, p in enumerate(probes) if (lang := language_of(p))]
    if not todo:
        return {}
    width = max(1, min(int(getattr(translator, "concurrency", 1) or 1), len(todo)))
    with ThreadPoolExecutor(max_workers=width) as ex:
        done = list(ex.map(lambda t: translate_one(translator, probes[t[0]], t[1]), todo))
    return {i: tr for (i, _), tr in zip(todo, done, strict=True)}


def detect_translated(probes: Sequence[Probe], stages: Callable[[list[Probe], bool], list[Detection]],
                      translator: Translator) -> tuple[list[Detection], int]:
    """Every candidate through `stages`, and the English version of each non-English one too (`stages`'s
    flag: these are translations); a candidate is contaminated when either is. Returns the detections and
    the translations asked for."""
    found = stages(list(probes), False)
    tr = translate_all(translator, probes)
    english = {i: t.probe for i, t in tr.items() if t.probe is not None}
    again = dict(zip(english, stages(list(english.values()), True), strict=True)) if english else {}
    out = []
    for i, d in enumerate(found):
        t = tr.get(i)
        out.append(d if t is None else combine(d, t, again.get(i)))
    return out, len(tr)


def combine(d: Detection, t: Translation, en: Detection | None) -> Detection:
    """One candidate's verdict from its own check and its English version's (None: the translation failed)."""
    after = f"after translation from {t.language}"
    scores = dict(d.scores)
    scores["translation"] = ({"language": t.language, "error": t.error} if en is None else
                             {"language": t.language, "question": t.probe.question if t.probe else "",
                              "status": en.status, "scores": en.scores})
    if d.status == "contaminated":
        return replace(d, scores=scores)
    if en is not None and en.status in ("contaminated", "review") and en.finding is not None:
        f = replace(en.finding, detail={**en.finding.detail, "translated_from": t.language})
        reason = reason_of(f) if en.status == "contaminated" else en.reason
        return Detection(en.status, f, scores, f"{reason} {after}")
    if d.status == "review":
        return replace(d, scores=scores)
    if en is None:
        return Detection("unchecked", None, scores,
                         f"unchecked {after}: the translation failed ({t.error}); not published, never a silent pass")
    return Detection(d.status, d.finding, scores, f"{d.reason}; {after}: {en.reason}")
