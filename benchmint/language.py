"""The languages of a set of questions, for the dataset card: a small, explainable detector.

No language-ID package is installed (nltk is, without its stop-word data; fetching models is what
benchmint never does), and the card needs only a language code per question. Each text is read by its
script first: Han, kana and Hangul say zh / ja / ko, and the other non-Latin scripts name their main
language. Latin text is scored by counts of the commonest function words of seven languages; a text
with too few of them, or a tie, is left unrecognised rather than guessed. The card lists every language
that holds a fair share of the recognised texts, and English when none was recognised.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# function words: frequent in any question, and few shared between these languages
STOP_WORDS = {
    "en": "the of and is are was were what which who whom how does do did to in for with that this by from on be "
          "it an at many much when why where has have",
    "fr": "le la les des du de est sont une un et quel quelle quels quelles que qui dans pour avec sur par combien "
          "comment pourquoi ce cette il elle au aux pas ne l d qu où",
    "de": "der die das den dem des und ist sind ein eine einer einem welche welcher welches wie was wer mit für "
          "auf von zu im nicht wird werden wieviele viele warum wann",
    "es": "el la los las del de es son una un y qué cuál cuáles cuántos cuántas cómo por para con en que se lo al "
          "está están",
    "it": "il lo la gli le di del della delle è sono una un e che quale quali quanti quante come perché per con nel "
          "nella non",
    "pt": "o a os as do da dos das de é são um uma e que qual quais quantos quantas como por para com em no na não "
          "ao",
    "nl": "de het een en is zijn van wat welke hoe hoeveel wie met voor op niet dat die in te wordt worden",
}
_WORDS = {lang: frozenset(words.split()) for lang, words in STOP_WORDS.items()}
_MIN_HITS = 2  # fewer function words than this: the text is too short to say
_MIN_SHARE = 0.2  # a language is listed when it holds this share of the recognised texts
_TOKEN = re.compile(r"[^\W\d_]+")

# (first, last code point, script) for the scripts that name a language by themselves (or with kana / Hangul)
_RANGES = [
    (0x3040, 0x30FF, "kana"), (0x31F0, 0x31FF, "kana"), (0xFF66, 0xFF9F, "kana"),
    (0x1100, 0x11FF, "hangul"), (0x3130, 0x318F, "hangul"), (0xAC00, 0xD7AF, "hangul"),
    (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"), (0xF900, 0xFAFF, "han"), (0x20000, 0x2FA1F, "han"),
    (0x0400, 0x04FF, "cyrillic"), (0x0370, 0x03FF, "greek"), (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0900, 0x097F, "devanagari"), (0x0E00, 0x0E7F, "thai"),
]
_SCRIPT_LANGUAGE = {"greek": "el", "hebrew": "he", "arabic": "ar", "devanagari": "hi", "thai": "th"}


def _script(ch: str) -> str:
    cp = ord(ch)
    return next((name for lo, hi, name in _RANGES if lo <= cp <= hi), "latin")


def detect_language(text: str) -> str | None:
    """An ISO 639-1 code for one text, or None when it cannot be said with some confidence."""
    scripts = Counter(_script(ch) for ch in text if ch.isalpha())
    if not scripts:
        return None
    cjk = scripts["han"] + scripts["kana"] + scripts["hangul"]
    top, count = max(scripts.items(), key=lambda kv: (kv[1], kv[0]))
    if cjk >= count:  # CJK letters outnumber the main other script
        if scripts["hangul"] > scripts["han"] + scripts["kana"]:
            return "ko"
        return "ja" if scripts["kana"] else "zh"
    if top == "cyrillic":
        return "uk" if re.search(r"[іїєґІЇЄҐ]", text) else "ru"
    if top == "arabic":
        return "fa" if re.search(r"[پچژگ]", text) else "ar"
    if top != "latin":
        return _SCRIPT_LANGUAGE[top]
    words = [w.lower() for w in _TOKEN.findall(text)]
    scores = sorted(((sum(w in stop for w in words), lang) for lang, stop in _WORDS.items()), reverse=True)
    (best, lang), (second, _) = scores[0], scores[1]
    return lang if best >= _MIN_HITS and best > second else None


def detect_languages(texts: Iterable[str]) -> list[str]:
    """The languages of `texts`, most frequent first: each that holds at least a fifth of the texts
    recognised, or the commonest; ["en"] when no text was recognised."""
    found = Counter(lang for t in texts if (lang := detect_language(t)))
    if not found:
        return ["en"]
    total = sum(found.values())
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    return [lang for i, (lang, n) in enumerate(ranked) if i == 0 or n / total >= _MIN_SHARE]


# the scripts a language is written in, where they are its own (a Latin-script language has none to look for)
_LANGUAGE_SCRIPTS = {"zh": {"han"}, "ja": {"han", "kana"}, "ko": {"hangul", "han"}, "ru": {"cyrillic"},
                     "uk": {"cyrillic"}, **{lang: {script} for script, lang in _SCRIPT_LANGUAGE.items()}}
_LOGOGRAPHIC = {"han", "kana", "hangul"}  # one character is a word; in an alphabet it takes a run of three
_ALPHABET_RUN = 3  # Greek letters in formulas (α, θ) come one or two at a time


def own_script_words(text: str, language: str) -> list[str]:
    """The runs of `text` written in `language`'s own script (any Han, kana or Hangul character; three or more
    letters of an alphabet): in a translation out of `language`, what was left untranslated."""
    scripts = _LANGUAGE_SCRIPTS.get(language, set())
    runs, cur = [], []
    for ch in text + " ":
        script = _script(ch) if ch.isalpha() else ""
        if script in scripts:
            cur.append(ch)
            continue
        if cur and (_script(cur[0]) in _LOGOGRAPHIC or len(cur) >= _ALPHABET_RUN):
            runs.append("".join(cur))
        cur = []
    return runs


def without_own_script(text: str, language: str) -> str:
    """`text` with the runs `own_script_words` finds removed, spaces tidied."""
    for run in sorted(set(own_script_words(text, language)), key=len, reverse=True):
        text = text.replace(run, " ")
    return re.sub(r"[ \t]{2,}", " ", text).strip()
