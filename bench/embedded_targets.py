"""The embedded models as targets, measured through benchmint's target path (validators.scoring.TargetRunner:
the target prompt, the JSON schema, the grading): 12 general-knowledge multiple-choice questions closed-book,
8 multiple-choice and 10 short-answer questions with the source text (tests/fixtures.py's Korvath facts), one
llama-server at a time. Per model: the replies in which a choice was recognised, the right ones, the missing
ones, the server's start-up time and the time to answer.

`--template` is for a model whose GGUF carries no chat template (Gemma 3 270M, a base model): `entry` (the
catalogue's, benchmint/local_models.py), `none` (the GGUF's own, i.e. llama-server's ChatML fallback), or
`plain` (every message's text in order, without the catalogue's worked example).

    .venv/bin/python bench/embedded_targets.py [--models smollm2-135m,gemma3-270m,qwen2.5-coder-1.5b]
        [--template entry|none|plain] [--threads N] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmint.env import apply_offline_defaults  # noqa: E402

apply_offline_defaults()

from benchmint.config import cache_root  # noqa: E402
from benchmint.llm import ModelClient  # noqa: E402
from benchmint.local_models import chat_template_for, resolve_local_gguf  # noqa: E402
from benchmint.local_server import LocalServer  # noqa: E402
from benchmint.modelspec import ModelSpec  # noqa: E402
from benchmint.records import Citation, Question, question_id  # noqa: E402
from benchmint.usage import UsageBook  # noqa: E402
from tests.fixtures import MD_TEXT, PDF_FACTS  # noqa: E402
from validators.scoring import TargetRunner  # noqa: E402

PLAIN = """{%- for m in messages -%}{{ m.content }}

{% endfor -%}"""

# (question, choices with the right one first); benchmint shuffles them per target
CLOSED_MCQ = [
    ("What is the capital of France?", ["Paris", "Berlin", "Madrid", "Rome"]),
    ("How many legs does a spider have?", ["8", "6", "4", "10"]),
    ("Which planet is known as the Red Planet?", ["Mars", "Venus", "Jupiter", "Saturn"]),
    ("What is the chemical formula of water?", ["H2O", "CO2", "NaCl", "O2"]),
    ("What is 7 times 8?", ["56", "54", "48", "64"]),
    ("Which animal is the largest mammal?", ["Blue whale", "Elephant", "Giraffe", "Hippopotamus"]),
    ("On which continent is Egypt?", ["Africa", "Asia", "Europe", "South America"]),
    ("Which gas do plants take from the air for photosynthesis?", ["Carbon dioxide", "Oxygen", "Nitrogen", "Helium"]),
    ("Who wrote Romeo and Juliet?", ["William Shakespeare", "Charles Dickens", "Jane Austen", "Mark Twain"]),
    ("How many days are in a week?", ["Seven", "Five", "Ten", "Twelve"]),
    ("At what temperature does water freeze, in degrees Celsius?", ["0", "100", "32", "-10"]),
    ("What colour is the sky on a clear day?", ["Blue", "Green", "Red", "Yellow"]),
]
DOC_MCQ = [
    ("How many litres of fresh water does the K-12 unit produce per day?",
     ["4,800 litres", "3,200 litres", "9,000 litres", "610 litres"]),
    ("How often must the K-12 membrane cartridges be replaced at the latest?",
     ["Every 14 months", "Every 6 months", "Every 48 months", "Every 2 weeks"]),
    ("Who founded Korvath Marine Systems?",
     ["Liesel Abernathy-Okoro", "Anders Skarvik", "Maria Tromsdal", "Jon Fathom"]),
    ("What is the unit's control software called?", ["BrineWatch", "FathomDesk", "SaltGuard", "K-Control"]),
    ("How much power does a K-12 unit draw at full load?", ["3.2 kilowatts", "4.8 kilowatts", "1.4 kilowatts",
                                                             "6.1 kilowatts"]),
    ("In which town was Korvath Marine Systems founded?", ["Skarvik", "Tromsdal", "Oslo", "Bergen"]),
    ("At what output salinity does BrineWatch raise an alarm?",
     ["480 parts per million", "36 parts per million", "900 parts per million", "120 parts per million"]),
    ("In which year was Korvath Marine Systems founded?", ["2017", "2009", "2021", "1998"]),
]
# (question, answer, kind, unit)
DOC_SHORT = [
    ("How many litres of fresh water does the K-12 unit produce per day?", "4,800 litres", "numeric", "litres"),
    ("Who founded Korvath Marine Systems?", "Liesel Abernathy-Okoro", "open", ""),
    ("What is the K-12's control software called?", "BrineWatch", "open", ""),
    ("How much does a K-12 unit weigh when dry?", "610 kilograms", "numeric", "kilograms"),
    ("In which town was Korvath Marine Systems founded?", "Skarvik", "open", ""),
    ("Within how many hours must a technician log a K-12 service visit?", "48 hours", "numeric", "hours"),
    ("In which system do technicians log K-12 service visits?", "FathomDesk", "open", ""),
    ("Where are spare membrane cartridges stored?", "the Tromsdal warehouse", "open", ""),
    ("What is the minimum stock of cartridges at the Tromsdal warehouse?", "36 cartridges", "numeric", ""),
    ("After how many operating hours must the membrane cartridges be replaced?", "9,000 operating hours", "numeric",
     "hours"),
]
SOURCE = "\n".join(PDF_FACTS) + "\n" + MD_TEXT


def question(text: str, answer: str, kind: str, **kw: object) -> Question:
    # the kind in the id: a short-answer question may share its text and answer with a multiple-choice one
    return Question(id=question_id(text, f"{kind}:{answer}"), question=text, answer=answer, kind=kind,
                    citations=[Citation(quote="x", chunk_id="c", document_id="d")], document_ids=["d"],
                    chunk_ids=["c"], generator_model="bench", prompt_id="p", prompt_version="1", **kw)


def measure(model: str, template: str, threads: int | None, show: bool) -> dict:
    ref = f"local:{model}"
    closed = [question(q, c[0], "mcq", choices=c, gold_index=0) for q, c in CLOSED_MCQ]
    doc = [question(q, c[0], "mcq", choices=c, gold_index=0) for q, c in DOC_MCQ]
    short = [question(q, a, k, unit=u) for q, a, k, u in DOC_SHORT]
    chat = {"entry": chat_template_for(ref), "none": "", "plain": PLAIN}[template]
    gguf = resolve_local_gguf(ref, cache_root())
    t0 = time.monotonic()
    with LocalServer(gguf, n_ctx=1024, n_threads=threads, chat_template=chat,
                     log_path=Path("/tmp") / f"bench-targets-{model}.log") as server:
        started = time.monotonic() - t0
        client = ModelClient(ModelSpec(model=ref, max_concurrency=1), "target", UsageBook(), None,
                             base_url=server.base_url, identity=f"bench:{ref}:{template}")
        runner = TargetRunner([client])
        t1 = time.monotonic()
        results = runner.run(closed, "closed_book", {})
        results.update(runner.run(doc + short, "with_document", lambda q: SOURCE))
        answered = time.monotonic() - t1
    rows = [(q, results[q.id][0]) for q in closed + doc + short]

    def tally(part: list[tuple[Question, object]]) -> dict:
        rs = [r for _, r in part]
        mcq = part[0][0].kind == "mcq"
        return {"n": len(rs), "right": sum(bool(r.correct) for r in rs), "missing": sum(r.reply is None for r in rs),
                **({"choice_recognised": sum(r.detail.startswith("picked") for r in rs)} if mcq else {})}

    n1, n2 = len(closed), len(closed) + len(doc)
    out = {"model": ref, "template": template, "start_s": round(started, 1), "answer_s": round(answered, 1),
           "closed_mcq": tally(rows[:n1]), "doc_mcq": tally(rows[n1:n2]), "doc_short": tally(rows[n2:])}
    print(json.dumps(out), flush=True)
    if show:
        for q, r in rows:
            print(f"  {r.correct!s:5} {(r.reply or '')[:40]!r:42} {r.detail[:40]:40} | {q.question}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="smollm2-135m,gemma3-270m,qwen2.5-coder-1.5b")
    ap.add_argument("--template", choices=["entry", "none", "plain"], default="entry")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--show", action="store_true", help="print every reply and its grade")
    args = ap.parse_args()
    for model in args.models.split(","):
        measure(model.strip(), args.template, args.threads, args.show)


if __name__ == "__main__":
    main()
