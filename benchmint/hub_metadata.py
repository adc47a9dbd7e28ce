"""What the Hugging Face Hub accepts in a dataset card's YAML header, and an offline check of a card.

huggingface_hub's `DatasetCard.validate()` posts the card to the Hub (/api/validate-yaml): it needs a
network, which builds and tests do not have. The offline part used here: `DatasetCard(text)` parses the
header as huggingface_hub does (a YAML mapping between `---` lines, into DatasetCardData), `datasets`'
MetadataConfigs reads the `configs:` block as `load_dataset` will, and every value benchmint writes is
checked against the allowed values `datasets` ships (datasets/utils/resources: languages, size
categories, creators, multilinguality) and the Hub's licence ids (below, from
https://huggingface.co/docs/hub/repositories-licenses).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

HUB_LICENSES = frozenset("""
apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 bigcode-openrail-m
afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5
cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0
cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0
cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl
lgpl-2.1 lgpl-3.0 isc h-research intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openrail++
osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license fair-noncommercial-research-license
llama2 llama3 llama3.1 llama3.2 llama3.3 llama4 gemma unknown other
""".split())
# the task categories benchmint writes (the Hub's full list lives in huggingface.js, not installed here)
TASK_CATEGORIES = frozenset({"question-answering", "multiple-choice", "text-generation"})
SOURCE_DATASETS = frozenset({"original", "extended"})
# the size_categories buckets, as the Hub names them: the first whose bound (exclusive) is above n
_SIZES = ["n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B", "1B<n<10B",
          "10B<n<100B", "100B<n<1T"]


def license_id(value: str) -> str:
    """A licence as the Hub writes it (lower case, e.g. cc-by-4.0, apache-2.0), or ValueError naming the fix."""
    v = value.strip().lower()
    if v not in HUB_LICENSES:
        raise ValueError(f"license {value!r} is not one of the Hub's licence ids (e.g. cc-by-4.0, cc-by-sa-4.0, "
                         f"apache-2.0, mit, cc0-1.0); write `other` for the source documents' own terms")
    return v


def size_category(n: int) -> str:
    """The Hub's size bucket for n rows: n<1K, 1K<n<10K, ..."""
    return next((name for i, name in enumerate(_SIZES) if n < 1000 * 10**i), "n>1T")


def _allowed(resource: str) -> Any:
    return json.loads(resources.files("datasets.utils.resources").joinpath(resource).read_text(encoding="utf-8"))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def card_problems(text: str) -> list[str]:
    """What the Hub would refuse in a dataset card's header, checked offline ([]: none found)."""
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard

    if not text.startswith("---\n"):
        return ["no YAML header (the `configs:` that tell datasets where the parquet files are)"]
    try:
        data = DatasetCard(text).data
    except ValueError as exc:  # the header is not a YAML mapping
        return [f"the YAML header does not parse: {exc}"]
    creators = _allowed("creators.json")
    checks = [
        ("license", HUB_LICENSES), ("language", _allowed("languages.json")),
        ("size_categories", _allowed("size_categories.json")),
        ("annotations_creators", creators["annotations"]), ("language_creators", creators["language"]),
        ("multilinguality", _allowed("multilingualities.json")), ("source_datasets", SOURCE_DATASETS),
        ("task_categories", TASK_CATEGORIES),
    ]
    problems = [f"{field}: {v!r} is not an allowed value" for field, allowed in checks
                for v in _listed(getattr(data, field, None)) if v not in allowed]
    if data.pretty_name is not None and not isinstance(data.pretty_name, str):
        problems.append("pretty_name: not a string")
    if not getattr(data, "configs", None):
        problems.append("configs: none, so `datasets.load_dataset(repo, \"all\")` would not find the parquet files")
    try:
        for config in MetadataConfigs.from_dataset_card_data(data).values():
            MetadataConfigs._raise_if_data_files_field_not_valid(config)
    except (ValueError, TypeError) as exc:
        problems.append(f"configs: {' '.join(str(exc).split())[:200]}")
    return problems
