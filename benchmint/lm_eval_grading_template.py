"""lm-evaluation-harness grading for this release's tasks (their `process_results`): the reply (the
first line the model wrote) graded the way `benchmint eval` grades it, but without a judge: an open
answer counts when it is a normalized exact match (or the gold phrase inside a short reply)."""

# export: this import is replaced by the module's code, so the file stands alone
from benchmint.export_grading import as_bool, exact_match, numeric_correct, picked_letter


def _result(ok: bool) -> dict:
    return {"exact_match": float(ok)}


def process_open(doc: dict, results: list) -> dict:
    return _result(exact_match(results[0], doc["answer"]))


def process_numeric(doc: dict, results: list) -> dict:
    return _result(numeric_correct(results[0], doc["answer"], doc.get("unit") or "", float(doc.get("tolerance") or 0)))


def process_mcq(doc: dict, results: list) -> dict:
    return _result(picked_letter(results[0], list(doc["choices"])) == doc["answer_letter"])


def process_tf(doc: dict, results: list) -> dict:
    got = as_bool(results[0])
    return _result(got is not None and got == as_bool(doc["answer"]))
