"""The dataset card (issue 15 item 3): a header the Hub accepts, checked offline (huggingface_hub's
DatasetCard parsing, datasets' MetadataConfigs and allowed values: benchmint.hub_metadata), the licence
from the config, languages detected from the questions, the size bucket, and the body's figures."""

from __future__ import annotations

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
