"""Translations in the contamination check (validators/contamination/translate.py): a non-English
candidate is translated once and its English version goes through the real stages (MiniLM on a
tiny corpus); English costs no call; a bad reply leaves the candidate unchecked, never raised.
The model is a stand-in: a plain class with complete_json, replying from a fixed table."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from benchmint.config import ContaminationSettings
from benchmint.errors import ConfigError, ModelOutputError
from benchmint.language import own_script_words, without_own_script
from corpora.reference.corpus import ReferenceCorpus
from validators.contamination.config import ContaminationConfig
from validators.contamination.detector import Detector
from validators.contamination.findings import Probe
from validators.contamination.text import embed_texts
from validators.contamination.translate import (
    TranslatedItem,
    TranslatedText,
    language_of,
    segments,
    translate_messages,
    translate_one,
)
from validators.contamination.validator import ContaminationValidator, to_verdict
from validators.contamination_setup import thresholds

REF = [
    ("Which planet in the solar system has the largest number of known moons as of the latest count?",
     ["Jupiter", "Saturn", "Uranus", "Neptune"], "Saturn"),
    ("Becker proclaimed that cannabis use was:",
     ["increasing among youth", "learned gradually through the social processes of a deviant career",
      "a dangerous pastime", "not enjoyable"],
     "learned gradually through the social processes of a deviant career"),
]

ZH = Probe("zh", "截至最新统计，太阳系中哪颗行星已知的卫星数量最多？", "土星", ["木星", "土星", "天王星", "海王星"])
ZH_ENGLISH = {"question": REF[0][0], "choices": REF[0][1], "answer": REF[0][2]}
ZH_OTHER = Probe("zh2", "水的化学式是什么？请从下列选项中选择。", "H2O", ["H2O", "CO2", "NaCl", "O2"])


class StandInTranslator:
    """Stands in for the model: replies from a table keyed by a word of the item, counts its calls."""

    concurrency = 2

    def __init__(self, replies: dict[str, Any]):
        self.replies = replies
        self.calls: list[list[dict[str, str]]] = []

    def complete_json(self, messages: list[dict[str, str]], schema: type[BaseModel], **overrides: Any) -> Any:
        self.calls.append(messages)
        text = messages[-1]["content"]
        reply = next((r for key, r in self.replies.items() if key in text),
                     ModelOutputError("the stand-in has no reply for this text"))
        if isinstance(reply, Exception):
            raise reply
        if schema is TranslatedText:  # the question asked again as text: the same words
            return schema(text=reply["question"])
        assert schema is TranslatedItem and overrides["temperature"] == 0.0
        return schema.model_validate(reply)


@pytest.fixture(scope="module")
def corpus() -> ReferenceCorpus:
    return ReferenceCorpus("tiny", "test", [f"r{i}" for i in range(len(REF))], [q for q, _, _ in REF],
                           [c for _, c, _ in REF], [a for _, _, a in REF])


def detector(corpus: ReferenceCorpus, cache, translator: Any, **cfg: object) -> Detector:
    return Detector([corpus], ContaminationConfig(**cfg), None, cache, translator=translator)


def test_language_of_names_non_english_text_only():
    assert language_of(ZH) == "zh"
    assert language_of(Probe("en", REF[0][0], REF[0][2], REF[0][1])) is None
    assert language_of(Probe("short", "2 + 2 = ?", "4")) is None  # too short to say: no call
    # English whose "a"s outnumber its English function words is still English; French is not
    assert language_of(Probe("a", "A subset H of a group (G,*) is a group if", "a")) is None
    assert language_of(Probe("fr", "Quelle est la capitale de la France ?", "Paris", ["Paris", "Lyon"])) == "fr"
    # Latin symbols in the choices outnumber a short question's Chinese (an MMLU algebra item)
    assert language_of(Probe("z", "找出2Z中所有4Z的陪集。", "4Z，2 + 4Z", ["4Z", "4Z，2 + 4Z", "2Z", "Z"])) == "zh"


def test_english_text_makes_no_call(corpus, tmp_path, embedder):
    stand_in = StandInTranslator({})
    en = Probe("en", "What is the boiling point of water at sea level in degrees Celsius?", "100")
    copy = Probe("copy", REF[1][0], REF[1][2], REF[1][1])
    det = detector(corpus, tmp_path, stand_in)
    out = det.detect([en, copy], embedder)
    assert stand_in.calls == [] and det.counts["translate"] == 0
    assert [d.status for d in out] == ["clean", "contaminated"]
    assert "translation" not in out[0].scores


def test_chinese_text_is_translated_once_and_its_english_version_is_checked(corpus, tmp_path, embedder):
    stand_in = StandInTranslator({"太阳系": ZH_ENGLISH, "化学式": {"question": "What is the chemical formula of "
                                                               "water? Choose from the options below.",
                                                               "choices": ["H2O", "CO2", "NaCl", "O2"],
                                                               "answer": "H2O"}})
    untranslated = detector(corpus, tmp_path, None).detect([ZH, ZH_OTHER], embedder)
    assert [d.status for d in untranslated] == ["clean", "clean"]  # what MiniLM alone makes of Chinese
    det = detector(corpus, tmp_path, stand_in)
    zh, other = det.detect([ZH, ZH_OTHER], embedder)
    assert len(stand_in.calls) == 2 and det.counts["translate"] == 2
    assert "Chinese" in stand_in.calls[0][-1]["content"] and "<item" in stand_in.calls[0][-1]["content"]
    assert zh.status == "contaminated" and zh.finding.item == 0, zh.reason
    assert zh.reason.endswith("after translation from zh") and zh.finding.detail["translated_from"] == "zh"
    assert zh.scores["translation"]["question"] == REF[0][0]
    assert other.status == "clean" and "after translation from zh" in other.reason
    assert to_verdict(zh).passed is False and to_verdict(other).passed is True


def test_a_translated_stem_turned_into_a_longer_question_is_embedded_with_its_choices_too(tmp_path, embedder):
    # a real miss of the development set (MMLU sociology): a stem of 9 words, embedded with its choices in the
    # index; the translation asks at length (13 words), so alone it would be embedded without them
    stem = "Technological forms of surveillance have made it easier to:"
    choices = ["access and exchange 'private' information about consumers",
               "reduce prison overcrowding by the use of electronic tagging", "monitor employees' activities at work",
               "all of the above"]
    item = ReferenceCorpus("soc", "test", ["s4"], [stem], [choices], [choices[3]])
    asked = "What forms of technology monitoring have made it easier for the following items?"
    zh = Probe("zh4", "科技监控的形式已使得以下事项更为容易：", "",
               ["获取和交换消费者的'私人'信息", "通过使用电子标签减少监狱过度拥挤", "监控员工的工作活动", "以上所有"])
    cfg = ContaminationConfig()
    assert embed_texts(asked, choices, cfg) == [asked]  # an English candidate: one text, as before
    assert embed_texts(asked, choices, cfg, translated=True) == [asked, "\n".join([asked, *choices])]
    assert embed_texts(stem, choices, cfg, translated=True) == ["\n".join([stem, *choices])]
    reworded = ["obtain and exchange consumers' 'private' information",
                "reduce prison overcrowding through the use of electronic tags", "monitor employees' work activities",
                "all of the above"]  # as the model translated them back
    reply = {"question": asked, "choices": reworded, "answer": ""}
    (d,) = detector(item, tmp_path, StandInTranslator({"科技监控": reply})).detect([zh], embedder)
    cosine = d.scores["translation"]["scores"]["semantic"]["cosine"]
    alone = float((embedder.encode([asked]) @ embedder.encode([stem, "\n".join([stem, *choices])]).T).max())
    assert d.status in ("contaminated", "review") and cosine >= 0.70 > alone, (d.reason, cosine, alone)


def test_translated_candidates_have_their_own_review_line(tmp_path, embedder):
    stem = "Technological forms of surveillance have made it easier to:"
    item = ReferenceCorpus("soc", "test", ["s4"], [stem], [[]], [""])
    asked = "What forms of technology monitoring have made it easier for the following items?"  # cosine 0.56
    zh = Probe("zh4", "科技监控的形式已使得以下事项更为容易：", "", [])
    english = Probe("en4", asked, "", [])
    translator = StandInTranslator({"科技监控": {"question": asked, "choices": [], "answer": ""}})
    shipped = detector(item, tmp_path, translator).detect([zh, english], embedder)
    assert [d.status for d in shipped] == ["clean", "clean"]
    lower = detector(item, tmp_path, translator, translated_review_threshold=0.5).detect([zh, english], embedder)
    assert [d.status for d in lower] == ["review", "clean"]  # the English candidate keeps the 0.70 line
    assert "after translation from zh" in lower[0].reason


def test_the_switch_off_asks_nothing(corpus, tmp_path, embedder):
    stand_in = StandInTranslator({"太阳系": ZH_ENGLISH})
    (d,) = detector(corpus, tmp_path, stand_in, translate=False).detect([ZH], embedder)
    assert stand_in.calls == [] and d.status == "clean"


@pytest.mark.parametrize("fault", [ModelOutputError("returned invalid TranslatedItem JSON twice"),
                                   {"question": "", "choices": [], "answer": ""}, ValueError("not JSON")])
def test_a_bad_reply_is_recorded_not_raised(corpus, tmp_path, embedder, fault):
    stand_in = StandInTranslator({"太阳系": fault, "化学式": {"question": "What is the chemical formula of water?",
                                                          "choices": ["H2O", "CO2", "NaCl", "O2"], "answer": "H2O"}})
    zh, other = detector(corpus, tmp_path, stand_in).detect([ZH, ZH_OTHER], embedder)
    assert zh.status == "unchecked" and "unchecked after translation from zh" in zh.reason
    assert zh.scores["translation"]["error"]
    assert other.status == "clean"  # one failure does not stop the others
    v = to_verdict(zh)
    assert v.passed is False and v.evidence["status"] == "unchecked" and v.evidence["review"] is True


def test_the_item_is_sent_whole_and_a_reply_that_loses_a_choice_keeps_its_question_only():
    msgs = translate_messages(ZH, "zh")
    assert "A. 木星" in msgs[-1]["content"] and "D. 海王星" in msgs[-1]["content"]
    assert "Answer: 土星" in msgs[-1]["content"]
    t = translate_one(StandInTranslator({"太阳系": {**ZH_ENGLISH, "choices": ZH_ENGLISH["choices"][:3]}}), ZH, "zh")
    assert t.probe is not None and t.probe.question == REF[0][0] and t.probe.choices == []
    assert t.probe.answer == "Saturn"


def test_the_letters_a_model_copies_from_the_prompt_are_taken_off_the_choices_and_the_answer(corpus, tmp_path,
                                                                                                embedder):
    """Qwen2.5-Coder-1.5B answers {"choices": ["A. 1", ...], "answer": "D. 4"}, copying the prompt's layout:
    compared as written, no choice and no answer matched the benchmark item's, and the second look cleared
    the translation as "another answer"."""
    labelled = {"question": REF[0][0], "choices": [f"{'ABCD'[j]}. {c}" for j, c in enumerate(REF[0][1])],
                "answer": "B. Saturn"}
    t = translate_one(StandInTranslator({"太阳系": labelled}), ZH, "zh")
    assert t.probe is not None and t.probe.choices == REF[0][1] and t.probe.answer == "Saturn"
    (d,) = detector(corpus, tmp_path, StandInTranslator({"太阳系": labelled})).detect([ZH], embedder)
    assert d.status == "contaminated" and "after translation from zh" in d.reason
    # choices and an answer copied back untranslated say nothing against the English item: left out
    copied = {"question": REF[0][0], "choices": [f"{'ABCD'[j]}. {c}" for j, c in enumerate(ZH.choices)],
              "answer": "B. 土星"}
    t = translate_one(model := StandInTranslator({"太阳系": copied}), ZH, "zh")
    assert t.probe is not None and t.probe.choices == [] and t.probe.answer == "" and t.probe.question == REF[0][0]
    assert "A. 木星\nB. 土星" in model.calls[-1][-1]["content"]  # they were asked again as text, and failed
    # asked again as text, they come back in English, one labelled line each; the answer is the same choice's
    lines = {"question": "A. Jupiter\nB. Saturn\nC. Uranus\nD. Neptune"}
    t = translate_one(StandInTranslator({"太阳系": copied, "A. 木星": lines}), ZH, "zh")
    assert t.probe is not None and t.probe.choices == REF[0][1] and t.probe.answer == "Saturn"
    # a choice that begins with a capital and a full stop of its own is left alone when not every one is labelled
    t = translate_one(StandInTranslator({"太阳系": {**ZH_ENGLISH, "choices": ["A. Jupiter", "Saturn", "Uranus",
                                                                                 "Neptune"]}}), ZH, "zh")
    assert t.probe is not None and t.probe.choices == ["A. Jupiter", "Saturn", "Uranus", "Neptune"]


PASSAGE = ("这个问题涉及以下信息。\n“我们是人；我们有灵魂，我们有激情，我们有感情，"
           "我们有希望，我们有愿望，就像任何其他种族一样。"
           "我们不能忍受被当作没有这些东西的人对待。”" * 3 + "\n根据上文，作者的主要观点是什么？")
LONG = Probe("long", PASSAGE, "平等", ["平等", "财富", "战争", "宗教"])


class SegmentTranslator(StandInTranslator):
    """Stands in for a small model: given the whole long item it writes the question alone (a summary); a
    segment it translates in full, except that it first copies back the one holding 根据 untranslated.
    `item` / `text`: what it replies instead for the item / for every segment."""

    def __init__(self, item: str | None = None, text: str | None = None):
        super().__init__({})
        self.item, self.text = item, text

    def complete_json(self, messages, schema, **overrides):
        self.calls.append(messages)
        text = messages[-1]["content"]
        if schema is TranslatedItem and self.item is not None:
            return schema(question=self.item)
        if schema is TranslatedText and self.text is not None:
            return schema(text=self.text)
        if schema is TranslatedItem:
            return schema(question="What is the author's main point?", choices=["equality", "wealth", "war",
                                                                                "religion"], answer="equality")
        assert schema is TranslatedText
        segment = text.split("<excerpt>")[1].split("</excerpt>")[0].strip()
        if "根据" in segment and overrides["temperature"] == 0.0:
            return schema(text=segment)  # copied back: asked again at another temperature
        return schema(text=f"[{len(segment)} characters in English]")


def test_a_long_question_is_translated_a_segment_at_a_time_and_an_untranslated_segment_asked_again():
    parts = segments(PASSAGE)
    assert len(parts) >= 2 and all(len(x) <= 240 for x in parts) and "".join(parts).replace(" ", "") == \
        PASSAGE.replace("\n", "").replace(" ", "")
    assert segments("陈述1 | 所有可解群都是质数幂次序。陈述2 | 所有质数幂次序的群都是可解的。", 24) == [
        "陈述1 | 所有可解群都是质数幂次序。", "陈述2 | 所有质数幂次序的群都是可解的。"]
    assert len("".join(segments("长" * 5000))) == 1500  # only the first 1,500 characters
    t = translate_one(model := SegmentTranslator(), LONG, "zh")
    assert t.probe is not None and t.probe.question.count("characters in English") == len(parts)
    assert "main point" not in t.probe.question and t.probe.choices == ["equality", "wealth", "war", "religion"]
    assert len(model.calls) == 1 + len(parts) + 1  # the item, each segment, the untranslated one again
    # a short question that came back in Chinese is asked again as text; one that came back in English is not
    short = Probe("s", "陈述1 | 所有可解群都是质数幂次序。陈述2 | 所有质数幂次序的群都是可解的。", "", [])
    t = translate_one(SegmentTranslator(item=short.question), short, "zh")
    assert t.probe is not None and t.probe.question == f"[{len(short.question) + 1} characters in English]"

    # a question whose translation is much shorter than it (a summary of a quotation) is asked again as text
    quoted = Probe("q", "此问题针对以下信息。“我们是男人；我们有灵魂，我们有激情，我们有感情，我们有希望，我们有渴望，"
                        "和世界上的任何其他种族一样。”——马库斯·加维，1920年。"
                        "以上段落在美国历史上的哪场辩论中表达了一个立场？", "", [])
    assert len("This question targets the following information.") < 0.6 * len(quoted.question) < 200
    t = translate_one(SegmentTranslator(item="This question targets the following information."), quoted,
                      "zh")
    assert t.probe is not None and "characters in English" in t.probe.question

    class FailsOne(SegmentTranslator):  # the segment holding 根据 fails outright, twice over
        def complete_json(self, messages, schema, **overrides):
            if schema is TranslatedText and "根据" in messages[-1]["content"]:
                raise ModelOutputError("returned invalid TranslatedText JSON twice")
            return super().complete_json(messages, schema, **overrides)

    t = translate_one(FailsOne(), LONG, "zh")  # the other segments are kept, the failed one left out
    assert t.probe is not None and t.probe.question.count("characters in English") == len(parts) - 1
    stand_in = StandInTranslator({"太阳系": ZH_ENGLISH})
    assert translate_one(stand_in, ZH, "zh").probe.question == REF[0][0] and len(stand_in.calls) == 1


def test_words_left_in_their_own_script_are_found_and_asked_again_and_a_chinese_question_kept_short_is_too():
    assert own_script_words("What does '女权主义立场' mean?", "zh") == ["女权主义立场"]
    assert own_script_words("gender社会化 occurs", "zh") == ["社会化"]
    assert own_script_words("cos θ + αβ = Ψ in Ελλάδα", "el") == ["Ελλάδα"]  # formula letters are not words
    assert own_script_words("Ethnic identity refers to:", "zh") == [] and own_script_words("le chat", "fr") == []
    assert without_own_script("What does '女权主义立场' mean?", "zh") == "What does ' ' mean?"

    term = Probe("t", "'女权主义立场'这个术语是什么含义呢：", "", [])
    kept = "What does the term '女权主义立场' mean?"  # the item's translation keeps the quoted term
    t = translate_one(model := SegmentTranslator(item=kept), term, "zh")  # the text prompt translates it
    assert t.probe is not None and t.probe.question == f"[{len(term.question)} characters in English]"
    assert len(model.calls) == 2
    # every reply keeps it: the English version goes on without it
    t = translate_one(model := SegmentTranslator(item=kept, text=kept), term, "zh")
    assert t.probe is not None and t.probe.question == "What does the term ' ' mean?"
    assert len(model.calls) == 3  # the item, the segment, the segment again at another temperature

    # English runs longer than Chinese: a translation about as long as a Chinese question lost part of it
    statements = Probe("s", "声明1 | 环同构是一对一的当且仅当核是 {0}。声明2 | Q是R中的理想。", "", [])
    lost = "Which of the following statements is correct?"
    assert 0.6 * len(statements.question) < len(lost) < 1.3 * len(statements.question)
    t = translate_one(SegmentTranslator(item=lost), statements, "zh")
    assert t.probe is not None and "characters in English" in t.probe.question


def test_the_switch_is_a_config_key_recorded_in_the_manifest_thresholds(corpus):
    assert thresholds(ContaminationSettings()).manifest()["translate"] is True
    assert thresholds(ContaminationSettings(translate=False)).manifest()["translate"] is False
    with pytest.raises(ConfigError, match="contamination.translate"):
        thresholds(ContaminationSettings(thresholds={"translate": False}))
    v = ContaminationValidator([corpus], thresholds(ContaminationSettings()), translator=StandInTranslator({}))
    described = v.describe()
    assert described["thresholds"]["translate"] is True and described["translate_prompt_version"] == "1"
    assert described["translate_text_prompt_version"] == "1"
