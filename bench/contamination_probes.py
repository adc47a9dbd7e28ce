"""The probes bench/contamination.py checks: MMLU items of three subjects (verbatim, paraphrased,
translated), light edits of them made here, and realistic questions about examples/docs."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from corpora.reference.corpus import ReferenceCorpus
from corpora.reference.loading import load_reference
from validators.contamination.findings import Probe

ROOT = Path(__file__).resolve().parent.parent

DATA = ROOT.parent / "shared" / "data" / "contamination"


SUBJECTS = ["abstract_algebra", "sociology", "high_school_us_history"]


COLUMNS = ["question", "A", "B", "C", "D", "answer"]


DOCS_QUESTIONS = [Path("/tmp/example_questions.jsonl"),
                  ROOT / "tests" / "data" / "contamination" / "example_questions.jsonl"]


NAMES = ["Maria", "Kenji", "Olusegun", "Priya", "Tomasz", "Ingrid", "Dmitri", "Aiko", "Rafael", "Leila"]


def load_subject(subject: str, data: Path = DATA) -> ReferenceCorpus:
    return load_reference(data / f"mmlu_{subject}_test.csv", name=f"mmlu-{subject}", column_names=COLUMNS)


def verbatim(c: ReferenceCorpus) -> list[Probe]:
    return [Probe(f"{c.name}:{i}", c.questions[i], c.answers[i], list(c.choices[i])) for i in range(len(c))]


def paraphrases(c: ReferenceCorpus, subject: str, data: Path = DATA) -> list[tuple[int, Probe]]:
    out = []
    for i, line in enumerate((data / f"mmlu_{subject}_rephrase_en.jsonl").read_text().splitlines()):
        text = json.loads(line)["text"].strip()
        if text:
            out.append((i, Probe(f"para:{i}", text, c.answers[i])))
    return out


ZH_CHOICE = re.compile(r"^\s*([A-D])\s*[.．、:：)]\s*(.*)$")


def translations(c: ReferenceCorpus, subject: str, data: Path = DATA) -> list[tuple[int, Probe]]:
    """Chinese items: question lines, then 'A. ...' choice lines, parsed into a multiple-choice probe."""
    out = []
    for i, line in enumerate((data / f"mmlu_{subject}_translation_zh.jsonl").read_text().splitlines()):
        text = json.loads(line)["text"].strip()
        if not text:
            continue
        q_lines, choices = [], []
        for ln in text.splitlines():
            m = ZH_CHOICE.match(ln)
            if m and (choices or len(q_lines) > 0):
                choices.append(m.group(2).strip())
            elif choices:
                choices[-1] += " " + ln.strip()
            else:
                q_lines.append(ln)
        gold = "ABCD".index(gold_letter(c, i)) if gold_letter(c, i) else -1
        answer = choices[gold] if 0 <= gold < len(choices) else ""
        out.append((i, Probe(f"zh:{i}", "\n".join(q_lines).strip() or text, answer,
                             choices if len(choices) >= 2 else [])))
    return out


def sample_translations(pool: list[tuple[str, int, Probe]], size: int, seed: int,
                        held_out_from: int | None = None) -> list[tuple[str, int, Probe]]:
    """A seeded sample of (subject, item, Chinese probe), by subject and item; with `held_out_from`, only of the
    items that seed's sample of the same size did not take (a check on unseen items). 0 or a size past the
    pool: all of it."""
    if held_out_from is not None:
        seen = {(s, i) for s, i, _ in random.Random(held_out_from).sample(pool, size)}
        pool = [t for t in pool if (t[0], t[1]) not in seen]
    chosen = random.Random(seed).sample(pool, size) if 0 < size < len(pool) else pool
    return sorted(chosen, key=lambda t: (SUBJECTS.index(t[0]), t[1]))


def gold_letter(c: ReferenceCorpus, i: int) -> str | None:
    try:
        return "ABCD"[c.choices[i].index(c.answers[i])]
    except (ValueError, IndexError):
        return None


def docs_questions() -> tuple[list[Probe], str]:
    for p in DOCS_QUESTIONS:
        if p.is_file():
            rows = [json.loads(x) for x in p.read_text().splitlines() if x.strip()]
            return [Probe(str(r["id"]), r["question"], r.get("answer") or "",
                          list(r.get("choices") or []) if r.get("kind", "mcq" if r.get("choices") else "open") == "mcq"
                          else []) for r in rows], str(p)
    raise SystemExit("no questions about examples/docs found")


def _typos(text: str, rng: random.Random, k: int = 2) -> str:
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    for i in rng.sample(idx, min(k, len(idx))):
        w = list(words[i])
        j = rng.randrange(1, len(w) - 2)
        op = rng.choice(["swap", "drop", "double"])
        if op == "swap":
            w[j], w[j + 1] = w[j + 1], w[j]
        elif op == "drop":
            del w[j]
        else:
            w.insert(j, w[j])
        words[i] = "".join(w)
    return " ".join(words)


def vary_numbers(text: str, rng: random.Random) -> str:
    return re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 7)), text)


def vary_names(text: str, rng: random.Random) -> str:
    # A capitalised word that does not start a sentence is taken as a name.
    return re.sub(r"(?<=[a-z,;] )[A-Z][a-z]{2,}", lambda m: rng.choice(NAMES), text)


def _punct(text: str, rng: random.Random) -> str:
    text = re.sub(r"[,;:'\"()]", "", text)
    return text.rstrip(".:?") + rng.choice(["?", ".", " ?", ""])


EDITS = {
    "case": lambda q, ch, rng: (q.upper() if rng.random() < 0.5 else q.lower(), [c.lower() for c in ch]),
    "punctuation": lambda q, ch, rng: (_punct(q, rng), [_punct(c, rng) for c in ch]),
    "typos": lambda q, ch, rng: (_typos(q, rng, 2 if len(q.split()) < 40 else 4), ch),
    "numbers_names": lambda q, ch, rng: (vary_names(vary_numbers(q, rng), rng), [vary_numbers(c, rng) for c in ch]),
    "drop_reorder_choices": None,  # needs the gold answer: below
    "prefix": lambda q, ch, rng: (rng.choice(["Question: ", "Q1. ", "Answer the following question: ",
                                              "Question 7: "]) + q, ch),
    "mixed": lambda q, ch, rng: ("Question: " + _typos(q.lower(), rng, 1), list(reversed(ch))),
}


def light_edits(c: ReferenceCorpus, seed: int = 0) -> dict[str, list[tuple[int, Probe]]]:
    out: dict[str, list[tuple[int, Probe]]] = {k: [] for k in EDITS}
    for i in range(len(c)):
        q, ch, a = c.questions[i], list(c.choices[i]), c.answers[i]
        for name, fn in EDITS.items():
            rng = random.Random(f"{seed}:{name}:{c.name}:{i}")
            if name == "drop_reorder_choices":
                wrong = [x for x in ch if x != a]
                if not wrong:
                    continue
                kept = [x for x in ch if x != rng.choice(wrong)]
                rng.shuffle(kept)
                nq, nch, na = q, kept, a
            else:
                nq, nch = fn(q, ch, rng)
                if name == "mixed":  # the choices reversed, not rewritten: the answer is the same text
                    na = a
                else:  # the choices rewritten one by one: the answer is the gold choice's rewrite
                    na = nch[ch.index(a)] if a in ch and len(nch) == len(ch) else a
            if nq == q and nch == ch:
                continue  # the edit changed nothing (no number, no name): not a light edit
            out[name].append((i, Probe(f"{name}:{i}", nq, na, nch)))
    return out
