"""The dataset card (issue 15 item 3): a header the Hub accepts, checked offline (huggingface_hub's
DatasetCard parsing, datasets' MetadataConfigs and allowed values: benchmint.hub_metadata), the licence
from the config, languages detected from the questions, the size bucket, and the body's figures."""

from __future__ import annotations

import re
from pathlib import Path

import datasets
import pytest

from benchmint import release
from benchmint.card import card_metadata, dataset_card
from benchmint.config import BuildConfig, load_config
from benchmint.errors import ConfigError
from benchmint.hub_metadata import card_problems, license_id, size_category
from benchmint.language import detect_language, detect_languages
from tests.fixtures import release_question

FIELDS = ["license", "language", "multilinguality", "annotations_creators", "language_creators", "size_categories",
          "source_datasets", "task_categories", "pretty_name", "configs"]
FRENCH = ["Combien de litres d'eau douce l'unité K-12 produit-elle par jour ?",
          "Quelle est la puissance électrique du K-12 à pleine charge ?",
          "Qui a fondé la société Korvath et dans quelle ville ?",
          "Tous les combien faut-il remplacer les cartouches de la membrane ?"]
CHINESE = ["K-12 装置每天生产多少升淡水？", "K-12 装置满负荷运行时消耗多少千瓦电力？",
           "Korvath 公司是谁在哪一年创立的？", "膜滤芯需要多久更换一次？"]


def _manifest(**extra) -> dict:
    m = {"name": "pumps", "version": "v2", "parent_version": "v1", "created_at": "2026-01-01T00:00:00+00:00",
         "benchmint_version": "0.1.0", "content_hash": "a" * 64,
         "counts": {"accepted": 3, "rejected": 1, "by_kind": {"open": 2, "mcq": 1}},
         "sources": {"documents": [{"id": "e" * 64, "title": "Orrin manual", "source": "orrin.pdf"}], "skipped": []}}
    return {**m, **extra}


def _rows(texts: list[str] | None = None) -> list[dict]:
    rows = [release_question(i, "mcq" if i == 2 else "open").export_row({"d": "Doc"}) for i in (1, 2, 3)]
    if texts is None:
        return rows
    return [{**rows[0], "question": t, "answer": "x"} for t in texts]


def test_a_published_card_passes_the_offline_hub_check_and_has_every_field(tmp_path):
    manifest = {"config": {"license": "cc-by-sa-4.0"}, "sources": {"documents": []}}
    qs = [release_question(1), release_question(2, "mcq"), release_question(3)]
    folder = release.publish(tmp_path, "bench", qs, [], manifest, {"d": "Doc"})
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert card_problems(card) == []
    from huggingface_hub import DatasetCard

    data = DatasetCard(card).data.to_dict()
    assert all(data.get(f) for f in FIELDS), [f for f in FIELDS if not data.get(f)]
    assert data["license"] == "cc-by-sa-4.0" and data["language"] == ["en"]
    assert data["annotations_creators"] == ["machine-generated"] and data["language_creators"] == ["found"]
    assert data["size_categories"] == ["n<1K"] and data["source_datasets"] == ["original"]
    assert data["multilinguality"] == ["monolingual"]
    assert data["task_categories"] == ["question-answering", "multiple-choice"]
    assert data["pretty_name"] == "bench v1"
    assert [c["config_name"] for c in data["configs"]] == ["all", "mcq", "open"]
    assert data["configs"][0]["data_files"] == [{"split": "test", "path": "questions.parquet"}]
    assert datasets.load_dataset(str(folder), "all", split="test").num_rows == 3
    assert "Released under `cc-by-sa-4.0`" in card


def test_the_offline_check_finds_what_the_hub_would_refuse():
    card = dataset_card(_manifest(), _rows(), ["mcq", "open"])
    assert card_problems(card) == []
    bad = card.replace("license: other", "license: cc-by-99").replace("- en\n", "- english\n", 1)
    assert card_problems(bad) == ["license: 'cc-by-99' is not an allowed value",
                                  "language: 'english' is not an allowed value"]
    assert "no YAML header" in card_problems("# just a title")[0]
    assert "configs" in card_problems("---\nlicense: mit\n---\n")[0]


def test_the_license_is_a_config_key_checked_against_the_hubs_ids(tmp_path):
    assert BuildConfig(name="b", sources=["d"]).license == "other"
    assert BuildConfig(name="b", sources=["d"], license="CC-BY-4.0").license == "cc-by-4.0"
    with pytest.raises(ConfigError, match="license 'GPL-9' is not one of the Hub's licence ids.*write `other`"):
        load_config(None, {"name": "b", "sources": ["d"], "license": "GPL-9"})
    assert license_id("apache-2.0") == "apache-2.0"


def test_license_other_says_the_source_documents_terms_apply():
    card = dataset_card(_manifest(), _rows(), ["mcq", "open"])
    assert "license: other\n" in card
    assert "the source documents' own terms apply" in card
    assert card_metadata(_manifest(config={"license": "mit"}), _rows(), ["open"])["license"] == "mit"


def test_languages_are_detected_from_the_questions():
    assert detect_languages(r["question"] for r in _rows()) == ["en"]
    assert detect_languages(FRENCH) == ["fr"]
    assert detect_languages(CHINESE) == ["zh"]
    assert detect_languages(["K-12ユニットは1日に何リットルの淡水を作りますか？"]) == ["ja"]
    assert detect_languages(["K-12 장치는 하루에 몇 리터의 담수를 생산합니까?"]) == ["ko"]
    assert detect_language("Wie viele Liter Süßwasser produziert die Einheit pro Tag?") == "de"
    assert detect_language("¿Cuántos litros de agua produce la unidad por día?") == "es"
    assert detect_language("K-12?") is None  # too little to say
    assert detect_languages(["K-12?", "Orrin-7"]) == ["en"]  # nothing recognised: English, the fallback
    en = [r["question"] for r in _rows()]
    assert detect_languages(en + FRENCH) == ["fr", "en"]  # mixed: both, commonest first
    assert detect_languages(en * 10 + FRENCH[:1]) == ["en"]  # one stray question is not a language of the set


def test_the_card_header_follows_the_questions_language():
    meta = card_metadata(_manifest(), _rows(FRENCH), ["open"])
    assert meta["language"] == ["fr"] and meta["multilinguality"] == ["monolingual"]
    meta = card_metadata(_manifest(), _rows(CHINESE + FRENCH), ["open"])
    assert meta["language"] == ["fr", "zh"] and meta["multilinguality"] == ["multilingual"]
    card = dataset_card(_manifest(), _rows(CHINESE), ["open"])
    assert "language:\n- zh\n" in card and card_problems(card) == []


def test_size_categories_are_the_hubs_buckets():
    assert [size_category(n) for n in (0, 1, 999, 1000, 9_999, 10_000, 99_999, 100_000, 10**6, 10**13)] == [
        "n<1K", "n<1K", "n<1K", "1K<n<10K", "1K<n<10K", "10K<n<100K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "n>1T"]
    rows = _rows() * 400
    assert card_metadata(_manifest(), rows, ["open"])["size_categories"] == ["1K<n<10K"]


def test_the_body_gives_the_rounds_with_their_intervals_and_the_models_by_role():
    models = {"generator": "local:qwen", "target1": "local:smol", "target2": "gpt-x", "judge1": "local:qwen"}
    m = _manifest(models=models,
                  rounds=[{"round": 0, "generated": 10, "accepted": 4, "mean_target_pass_rate": 0.5833,
                           "measured": 12, "pass_rate_ci": [0.41, 0.75]},
                          {"round": 1, "generated": 6, "accepted": 1, "kinds": ["mcq:near_miss"],
                           "mean_target_pass_rate": None, "measured": 0}],
                  stopped_because="2 rounds done")
    card = dataset_card(m, _rows(), ["mcq", "open"])
    assert ("- Round 0 (first pass): 10 candidates written, 4 accepted; mean target pass rate 0.58, "
            "95% interval [0.41, 0.75], over 12 measured questions.") in card
    assert "- Round 1 (adaptive, aimed at the targets' failures; shapes `mcq:near_miss`): 6 candidates written, " \
           "1 accepted; no question was measured by the targets." in card
    assert "- targets (the models under test: their answers give `pass_rate`): `local:smol`, `gpt-x`" in card
    assert "- generator (wrote the questions): `local:qwen`" in card
    assert "- questions: 3 (mcq: 1, open: 2)" in card
    for kept in ("## Load it", "datasets.load_from_disk", "## Evaluate it", "lm_eval run", "inspect eval",
                 'revision="v2"'):
        assert kept in card
    unmeasured = dataset_card(_manifest(), _rows(), ["open"])
    assert "No target model measured these questions" in unmeasured
    assert "Drop in mean" not in card
    drop = {"first_round": 0, "last_round": 1, "mean": 0.3125, "ci_low": 0.05, "ci_high": 0.5, "n_first": 12,
            "n_last": 10, "clusters": 9, "shared_clusters": 5, "method": "mover"}
    card = dataset_card({**m, "round_drop": drop}, _rows(), ["mcq", "open"])
    assert ("Drop in mean target pass rate from round 0 to round 1 (round 0's minus round 1's; positive: the later "
            "questions are harder): 0.31, 95% interval [0.05, 0.50], over 12 and 10 measured questions from 9 "
            "source chunks, 5 of them in both rounds") in card


def test_the_card_is_a_function_of_the_manifest_and_rows():
    m, rows = _manifest(rounds=[{"round": 0, "generated": 3, "accepted": 3}]), _rows(FRENCH + CHINESE)
    assert dataset_card(m, rows, ["open"]) == dataset_card(dict(m), [dict(r) for r in rows], ["open"])


# --------------------------------------------------------------------------- validity (issue 16, item 4)


OLD_CALIBRATION = Path(__file__).parent.parent / "data" / "contamination" / "calibration-2026-11-29.json"


def _validity_manifest() -> dict:
    from validators.contamination.calibration import load_calibration
    from validators.contamination.config import ContaminationConfig

    contamination = {
        "corpora": [{"name": "mmlu", "size": 14042}, {"name": "gsm8k", "size": 1319}],
        "thresholds": ContaminationConfig().manifest(), "judge": None, "embedding_model": "all-MiniLM-L6-v2",
        "verdicts": {"checked": 40, "clean": 30, "review": 4, "unchecked": 0,
                     "flagged": {"exact": 2, "ngram": 1, "fuzzy": 1, "semantic": 2, "judge": 0}},
        # a calibration of its own (the shipped file's figures change with each new measurement)
        "calibration": load_calibration(OLD_CALIBRATION).model_dump()}
    from pipeline.validity import DISCRIMINATION_EDGES, PASS_RATE_EDGES, spread

    pass_rates = spread([0.25, 0.5, 0.75], PASS_RATE_EDGES).model_dump()
    discrimination = spread([0.0, 1.0, 1.0], DISCRIMINATION_EDGES).model_dump()
    validity = {"candidates": 44, "published": 3,
                "closed_book": {"mode": "reject", "max_pass_rate": 0.5, "checked": 20, "measured": 19,
                                "answerable": 5, "rejected": 5, "kept": 0, "published_answerable": 0},
                "difficulty": {"band": [0.1, 0.8], "mode": "with_document", "checked": 15, "in_band": 9,
                               "too_hard": 3, "too_easy": 2, "bad_gold": 1, "not_measured": 0,
                               "pass_rate": pass_rates, "discrimination": discrimination}}
    rounds = [{"round": 0, "generated": 10, "accepted": 4, "mean_target_pass_rate": 0.5833, "measured": 12,
               "pass_rate_ci": [0.41, 0.75]},
              {"round": 1, "generated": 29, "accepted": 9, "mean_target_pass_rate": 0.319, "measured": 12,
               "pass_rate_ci": [0.10, 0.63], "kinds": ["open", "numeric"], "passes": 2,
               "again_kinds": ["numeric", "open"]}]
    return _manifest(contamination=contamination, validity=validity, rounds=rounds)


def test_the_card_states_validity_with_the_manifests_figures():
    card = dataset_card(_validity_manifest(), _rows(), ["mcq", "open"])
    assert card_problems(card) == []
    section = card[card.index("## Validity"):card.index("## Models by role")]
    assert section.index("### Contamination") < section.index("### Answerable without the passage") \
        < section.index("### Difficulty band and discrimination") < section.index("### Per round")
    # contamination: the corpora, the stages at this build's thresholds, its verdicts per stage
    assert ("Candidates that passed grounding and quality were checked against 2 reference corpora: `mmlu` (14042 "
            "items), `gsm8k` (1319 items).") in section
    assert ("fuzzy match (rapidfuzz ratio 90 flags); semantic (`all-MiniLM-L6-v2` cosine 0.8 flags). The middle "
            "band (cosine 0.7-0.8, fuzzy ratio 78-90) is held for review, not published (no contamination judge "
            "was configured).") in section
    assert ("This build checked 40 candidates: 30 clean, 6 called contaminated (exact 2, n-gram 1, fuzzy 1, "
            "semantic 2, judge 0), 4 held for review.") in section
    # the calibration: its date, that it is the development set's, and the figures as a table
    assert "measured on 2026-11-29 on the development set, not on this release: MMLU test items" in section
    assert "Command: `HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python " \
           "bench/contamination.py --judge local:qwen2.5-coder-1.5b" in section
    assert "| stage | precision | recall |" in section
    assert ("| + middle band (cosine 0.70-0.80, fuzzy 78-90) held for review, no judge | 1.0000 | 0.9957 |"
            in section)
    assert "| Chinese translations | 503 | 0.0000 |  |" in section
    assert "| other subjects' items | 1010 |  | 0.0000 |" in section
    # closed-book
    assert ("The target models answered 20 candidates without their passage (19 got a reply); 5 (26% of those "
            "measured) were answerable closed-book (more than 50% of the targets right): 5 rejected for it. "
            "Published questions this build found answerable closed-book: 0.") in section
    # the band and the spread of pass_rate and discrimination
    assert "is in [0.1, 0.8]. Of 15 candidates the targets answered: 9 in the band, 3 too hard, 2 too easy, 1 " \
           "rejected because no target was right and the judges found the gold answer wrong, 0 not measured." \
           in section
    assert ("- `pass_rate`: measured on 3 of the 3 published questions; min 0.25, median 0.50, max 0.75; by bin: "
            "[0, 0.2): 0, [0.2, 0.4): 1, [0.4, 0.6): 1, [0.6, 0.8): 1, [0.8, 1]: 0.") in section
    assert ("- `discrimination`: measured on 3 of the 3 published questions; min 0.00, median 1.00, max 1.00; by "
            "bin: [-1, 0): 0, 0: 1, (0, 0.5): 0, [0.5, 1]: 2.") in section
    # the rounds sit in the section, with their intervals
    assert "mean target pass rate 0.58, 95% interval [0.41, 0.75], over 12 measured questions." in \
        section[section.index("### Per round"):]
    # a round that went over its chunks again says so, with the shapes of its last pass
    assert ("29 candidates written, 9 accepted in 2 passes over its chunks (again in `numeric`, `open`); mean "
            "target pass rate 0.32") in section
    assert "Round 0 (first pass): 10 candidates written, 4 accepted; mean" in section


def test_a_calibration_set_measured_by_another_command_names_it_on_the_card():
    from validators.contamination.calibration import Calibration

    m = _validity_manifest()
    cal = m["contamination"]["calibration"]
    cal["sets"].append({"name": "Chinese translations (100; translator local:qwen2.5-coder-1.5b)", "n": 100,
                        "caught": 0.92, "command": "bench/contamination_translations.py --sample 100"})
    Calibration.model_validate(cal)  # the record accepts it
    card = dataset_card(m, _rows(), ["mcq", "open"])
    assert card_problems(card) == []
    assert "| Chinese translations (100; translator local:qwen2.5-coder-1.5b) | 100 | 0.9200 |  |" in card
    assert ("Measured by another command: Chinese translations (100; translator local:qwen2.5-coder-1.5b): "
            "`bench/contamination_translations.py --sample 100`.") in card
    assert "Measured by another command" not in dataset_card(_validity_manifest(), _rows(), ["mcq", "open"])


def test_a_judge_a_tagging_closed_book_check_and_a_missing_calibration_are_said_so():
    m = _validity_manifest()
    m["contamination"].update(judge="local:qwen2.5-coder-1.5b", calibration=None)
    m["validity"]["closed_book"].update(mode="tag", rejected=0, kept=5, published_answerable=2)
    card = dataset_card(m, _rows(), ["open"])
    assert "is decided by the judge `local:qwen2.5-coder-1.5b`." in card
    assert "not measured for the version that built this release (no calibration shipped with it)" in card
    assert "5 kept and tagged (`difficulty.closed_book: tag`). Published questions this build found answerable " \
           "closed-book: 2." in card
    m["validity"]["closed_book"]["mode"] = "off"
    assert "Not checked (`difficulty.closed_book: off`)" in dataset_card(m, _rows(), ["open"])
    m["validity"] = {"candidates": 3, "published": 3, "closed_book": None, "difficulty": None}
    m["contamination"] = {"enabled": False, "corpora": []}
    card = dataset_card(m, _rows(), ["open"])
    assert "No contamination check ran for this release" in card
    assert "Not checked: no target model ran" in card and "the difficulty band was not applied" in card


def test_an_old_release_without_the_validity_figures_still_renders():
    from benchmint.card_validity import NOT_RECORDED
    from validators.contamination.config import ContaminationConfig

    old = _manifest(contamination={"corpora": [{"name": "mmlu", "size": 10}], "thresholds":
                                   ContaminationConfig().manifest(), "judge": None},
                    rounds=[{"round": 0, "generated": 3, "accepted": 3, "mean_target_pass_rate": 0.5, "measured": 3,
                             "pass_rate_ci": [0.2, 0.8]}])
    card = dataset_card(old, _rows(), ["open"])
    assert card_problems(card) == [] and "## Validity" in card
    assert "checked against 1 reference corpus: `mmlu` (10 items)." in card and "This build checked" not in card
    assert "no calibration shipped" in card
    assert card.count(NOT_RECORDED) == 2  # closed-book, and the band with its spreads
    assert "mean target pass rate 0.50, 95% interval [0.20, 0.80], over 3 measured questions." in card
    bare = dataset_card(_manifest(), _rows(), ["open"])  # no contamination record at all
    assert bare.count(NOT_RECORDED) == 3 and "No target model measured these questions" in bare


def test_the_validity_figures_come_from_the_validators_verdicts(tmp_path):
    import json

    from benchmint.records import Verdict
    from pipeline.validity import DISCRIMINATION_EDGES, PASS_RATE_EDGES, contamination_tally, spread, validity
    from validators.answerability import AnswerabilityValidator
    from validators.base import Context
    from validators.contamination.findings import Detection, Finding
    from validators.contamination.validator import to_verdict
    from validators.difficulty import DifficultyValidator
    from validators.scoring import TargetResult, TargetRunner

    def results(*correct):
        return [TargetResult(f"t{i}", "closed_book", "x", c, "exact") for i, c in enumerate(correct)]

    class Replies:  # the targets' closed-book replies, fixed
        def __init__(self, by_id):
            self.by_id = by_id

        def run(self, questions, mode, chunks):
            return {q.id: self.by_id[q.id] for q in questions}

    qs = [release_question(i) for i in range(1, 7)]
    cfg = BuildConfig(name="b", sources=["d"], difficulty={"band": "0.2:0.8", "closed_book": "tag"})
    closed = {qs[0].id: results(True, True, True), qs[1].id: results(False, False, True),
              qs[2].id: results(None, None, None), qs[3].id: results(True, True, False)}
    ctx = Context(config=cfg)
    for q, v in zip(qs[:4], AnswerabilityValidator(Replies(closed), 0.5, "tag").check(qs[:4], ctx), strict=True):
        q.verdicts.append(v)
    diff = DifficultyValidator(TargetRunner([]), band=(0.2, 0.8), panel=None)
    strength = {"t0": 0.9, "t1": 0.5, "t2": 0.1}
    for q, rs in zip(qs[:4], (results(True, True, False), results(True, False, False),
                              results(True, True, True), results(False, False, False)), strict=True):
        q.verdicts.append(diff.verdict_for(q, rs, strength))
    found = Finding("mmlu", 3, "mmlu-3", "semantic", 0.9, "question", "q", "r", {"cosine": 0.9})
    band = Finding("mmlu", 4, "mmlu-4", "review", 0.75, "question", "q", "r", {"band": "cosine 0.750"})
    qs[4].verdicts.append(to_verdict(Detection("contaminated", found, {}, "contaminated: ...")))
    qs[5].verdicts.append(to_verdict(Detection("review", band, {}, "needs review: ...")))
    for q in qs[:3]:
        q.verdicts.insert(0, to_verdict(Detection("clean", None, {}, "no match")))
    qs[3].verdicts.insert(0, Verdict(validator="contamination", passed=False, reason="validator error: boom"))

    v = validity(cfg, qs, qs[:2], targets=True)
    assert (v.candidates, v.published) == (6, 2)
    cb = v.closed_book
    assert (cb.mode, cb.checked, cb.measured, cb.answerable, cb.rejected, cb.kept) == ("tag", 4, 3, 2, 0, 2)
    assert cb.published_answerable == 1  # qs[0], answered by all three targets without its passage
    d = v.difficulty
    assert d.band == (0.2, 0.8) and (d.checked, d.in_band, d.too_hard, d.too_easy) == (4, 2, 1, 1)
    assert (d.pass_rate.measured, d.pass_rate.min, d.pass_rate.max) == (2, 1 / 3, 2 / 3)
    assert [b.n for b in d.pass_rate.bins] == [0, 1, 0, 1, 0]
    assert d.discrimination.measured == 2 and d.discrimination.median == 1.0
    t = contamination_tally(qs)
    assert (t.checked, t.clean, t.review, t.unchecked) == (6, 3, 1, 1)
    assert t.flagged == {"exact": 0, "ngram": 0, "fuzzy": 0, "semantic": 1, "judge": 0}
    assert validity(cfg, qs, qs[:2], targets=False).closed_book is None
    # the spread's bins: an edge given twice is a bin of exactly that value; the last bin is closed
    s = spread([-1.0, 0.0, 0.0, 0.25, 0.5, 1.0], DISCRIMINATION_EDGES)
    assert [(b.label, b.n) for b in s.bins] == [("[-1, 0)", 1), ("0", 2), ("(0, 0.5)", 1), ("[0.5, 1]", 2)]
    assert [b.label for b in spread([], PASS_RATE_EDGES).bins][-1] == "[0.8, 1]"
    # the manifest a build writes carries them (with the detector's description), and the card says them
    import time

    from benchmint.modelspec import ModelSpec
    from pipeline.manifest import ModelsUsed, RunFacts, build_manifest
    from pipeline.rounds import Generation

    cfg = cfg.model_copy(update={"cache_dir": str(tmp_path)})
    run = RunFacts(cfg=cfg, docs=[], skipped=[], all_chunks=[], roles={"target1": ModelSpec(model="t0")},
                   gen=Generation(accepted=qs[:2], rejected=qs[2:], generated=6),
                   models=ModelsUsed(usage={}, cost={}, seconds=0.0, faults={}, missing={}), started=time.monotonic())
    described = {"corpora": [{"name": "mmlu", "size": 9}], "thresholds": {}, "calibration": None}
    manifest = build_manifest(run, {}, described, qs[2:], None, qs[:2]).as_dict()
    assert manifest["contamination"]["verdicts"] == t.model_dump()
    assert manifest["validity"] == v.model_dump()
    m = _manifest(contamination=manifest["contamination"], validity=manifest["validity"])
    card = dataset_card(json.loads(json.dumps(m)), _rows(), ["open"])  # as read back from manifest.json
    assert "This build checked 6 candidates: 3 clean, 1 called contaminated (exact 0, n-gram 0, fuzzy 0, " \
           "semantic 1, judge 0), 1 held for review, 1 could not be checked." in card
    assert "2 (67% of those measured) were answerable closed-book" in card and "2 kept and tagged" in card
    assert "Of 4 candidates the targets answered: 2 in the band, 1 too hard, 1 too easy" in card


def test_the_shipped_calibration_loads_and_keeps_its_shape(tmp_path):
    import json

    from benchmint.errors import BenchmintError
    from validators.contamination.calibration import CALIBRATION_FILE, load_calibration

    raw = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    assert set(raw) == {"measured_on", "date", "command", "stages", "sets"}
    assert all(set(s) == {"name", "precision", "recall"} for s in raw["stages"])
    assert all(set(s) - {"command"} in ({"name", "n", "caught"}, {"name", "n", "not_published"}) for s in raw["sets"])
    # the translations' sets: measured by their own bench, which the card names
    assert any(s["name"].startswith("Chinese translations") and "contamination_translations.py" in s["command"]
               for s in raw["sets"])
    cal = load_calibration()
    assert cal is not None and re.fullmatch(r"\d{4}-\d\d-\d\d", cal.date) and "bench/contamination" in cal.command
    assert cal.stages and all(0 <= s.precision <= 1 and 0 <= s.recall <= 1 for s in cal.stages)
    assert any("hard negatives" in s.name and s.not_published is not None for s in cal.sets)
    old = load_calibration(OLD_CALIBRATION)
    assert [round(s.recall, 4) for s in old.stages] == [0.9825, 0.9957, 0.9943]
    assert {s.name: s.caught for s in old.sets if s.caught is not None}["English paraphrases"] == 0.9629
    assert load_calibration(tmp_path / "absent.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**raw, "sets": [{"name": "x", "n": 1, "caught": 1.0, "not_published": 0.0}]}))
    with pytest.raises(BenchmintError, match="bad.json is not a contamination calibration at sets.0"):
        load_calibration(bad)
    bad.write_text("{")
    with pytest.raises(BenchmintError, match="is not a contamination calibration"):
        load_calibration(bad)


def test_show_gives_the_validity_figures(tmp_path):
    import json

    from typer.testing import CliRunner

    from benchmint.cli import app

    qs = [release_question(1), release_question(2, "mcq"), release_question(3)]
    release.publish(tmp_path, "bench", qs, [], _validity_manifest(), {"d": "Doc"})
    res = CliRunner().invoke(app, ["show", "bench", "--output-dir", str(tmp_path)], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert "40 checked: 6 contaminated (exact 2, n-gram 1, fuzzy 1, semantic 2), 4 held for review" in res.output
    assert "detector, dev set 2026-11-29" in res.output and "recall 0.996" in res.output
    assert "5 of 19 measured candidates answerable without the passage (reject)" in res.output
    assert "[0.1, 0.8]: 9 in, 3 too hard, 2 too easy" in res.output
    assert "median 0.50 (min 0.25, max 0.75), 3 measured" in res.output
    data = json.loads(CliRunner().invoke(app, ["show", "bench", "--output-dir", str(tmp_path), "--json"]).stdout)
    assert data["validity"]["closed_book"]["answerable"] == 5
    assert data["validity"]["contamination"]["verdicts"]["review"] == 4
