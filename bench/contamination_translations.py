"""Contamination of translated items, measured: recall on Chinese translations of the development
set when non-English candidates are translated into English by a model and checked again
(validators/contamination/translate.py), and the false-positive rate beside it.

Data: ../shared/data/contamination/ (three MMLU subjects and their Chinese translations from
lm-sys/llm-decontaminator; see bench/contamination.py). A seeded sample of N Chinese items from the
three subjects is checked against each subject in turn, with no judge:
- against its own subject: recall (caught = not published: contaminated, review, or unchecked after
  a failed translation), with a 95% interval, beside the recall with translation off;
- against the other two subjects: false positives among non-English items (their translations are
  the same requests, answered from the response cache: N calls in all);
- the other subjects' English items and the questions about examples/docs, against each subject
  and (docs) against all corpora together: the false-positive rate as in bench/contamination.py;
  English text is never sent to the model (the calls are counted to show it).

    .venv/bin/python bench/contamination_translations.py [--sample 100] [--seed 0] [--held-out-from 0]
        [--write-calibration]
        [--model local:qwen2.5-coder-1.5b] [--slots 4] [--dump FILE]

The model is served by benchmint's ModelPool (one llama.cpp server with --slots parallel slots,
n_ctx 4096 a slot); a model at an OpenAI-compatible endpoint is named URL#model.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmint.env import apply_offline_defaults  # noqa: E402

apply_offline_defaults()

from bench.contamination_probes import (  # noqa: E402
    DATA,
    SUBJECTS,
    docs_questions,
    load_subject,
    sample_translations,
    translations,
    verbatim,
)
from bench.contamination_scoring import caught  # noqa: E402
from benchmint.config import cache_root  # noqa: E402
from benchmint.embeddings import Embedder  # noqa: E402
from benchmint.stats import Estimate, mean_with_ci  # noqa: E402
from corpora.reference.builtin import default_corpora  # noqa: E402
from validators.contamination.calibration import CALIBRATION_FILE, replace_sets  # noqa: E402
from validators.contamination.config import ContaminationConfig  # noqa: E402
from validators.contamination.detector import Detector  # noqa: E402
from validators.contamination.findings import Detection  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--sample", type=int, default=100, help="Chinese items checked, of the 503 (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default="local:qwen2.5-coder-1.5b", help="translator (local:NAME or URL#model)")
    ap.add_argument("--slots", type=int, default=4, help="parallel slots of a local model's llama.cpp server")
    ap.add_argument("--held-out-from", type=int, metavar="SEED",
                    help="sample only items that seed SEED's sample (of the same size) did not take")
    ap.add_argument("--write-calibration", action="store_true",
                    help="add the recall and the Chinese false positives to the shipped calibration (the card's)")
    ap.add_argument("--dump", help="write every Chinese item's detection to this jsonl")
    args = ap.parse_args()
    data = Path(args.data)
    if not (data / "README.md").is_file():
        print(f"SKIP: {data} is absent (it lives beside the repo, in ../shared/data)")
        return

    cfg = ContaminationConfig()
    cache = cache_root()
    emb = Embedder()
    emb.encode(["warm up"])
    subjects = {s: load_subject(s, data) for s in SUBJECTS}
    pool_zh = [(s, i, p) for s, c in subjects.items() for i, p in translations(c, s, data)]
    sample = sample_translations(pool_zh, args.sample, args.seed, args.held_out_from)
    drawn_from = len(pool_zh) - (args.sample if args.held_out_from is not None else 0)
    probes = [p for _, _, p in sample]
    docs, docs_src = docs_questions()
    print(f"config: {json.dumps(cfg.manifest())}")
    print(f"sample: {len(sample)} of {drawn_from} Chinese items (seed {args.seed}"
          + (f", none of seed {args.held_out_from}'s" if args.held_out_from is not None else "") + "): "
          f"{dict(Counter(s for s, _, _ in sample))}")

    with translator_client(args, cache) as (client, usage):
        recall_on, recall_off, fp_zh, fp_en, fp_docs = [], [], [], [], []
        stages: Counter = Counter()
        en_calls = 0
        t_translate = 0.0
        dump = open(args.dump, "w") if args.dump else None
        for s, c in subjects.items():
            det = Detector([c], cfg, None, cache, translator=client)
            plain = Detector([c], cfg, None, cache)
            t0 = time.monotonic()
            dets = det.detect(probes, emb)
            t_translate += det.timing["translate"]
            offs = plain.detect(probes, emb)
            own = [j for j, (subj, _, _) in enumerate(sample) if subj == s]
            recall_on += [caught(dets[j]) for j in own]
            recall_off += [caught(offs[j]) for j in own]
            stages.update(_how(dets[j]) for j in own)
            fp_zh += [caught(d) for (subj, _, _), d in zip(sample, dets, strict=True) if subj != s]
            calls_before = det.counts["translate"]
            others = [p for o, oc in subjects.items() if o != s for p in verbatim(oc)]
            fp_en += [caught(d) for d in det.detect(others, emb)]
            fp_docs += [caught(d) for d in det.detect(docs, emb)]
            en_calls += det.counts["translate"] - calls_before
            print(f"== {c.name}: its {len(own)} Chinese items caught: {sum(caught(dets[j]) for j in own)} with "
                  f"translation, {sum(caught(offs[j]) for j in own)} without ({time.monotonic() - t0:.1f}s)")
            if dump:
                for j, (subj, i, p) in enumerate(sample):
                    dump.write(json.dumps({"reference": s, "subject": subj, "item": i, "id": p.id,
                                           "status": dets[j].status, "reason": dets[j].reason,
                                           "translation": dets[j].scores.get("translation")},
                                          ensure_ascii=False) + "\n")
        allc = list(subjects.values()) + default_corpora()
        det = Detector(allc, cfg, None, cache, translator=client)
        fp_all = [caught(d) for d in det.detect(docs, emb)]
        en_calls += det.counts["translate"]
        if dump:
            dump.close()
        use = usage()

    print(f"\n== Chinese translations, {len(sample)} items, no judge, translator {args.model}")
    print(f"  recall with translation    {_fmt(mean_with_ci([float(x) for x in recall_on]))}  goal >= 0.90")
    print(f"  recall without translation {_fmt(mean_with_ci([float(x) for x in recall_off]))}")
    print(f"  how caught (own subject): {dict(stages)}")
    print(f"  translation calls {use.get('calls', 0):.0f}, cache hits {use.get('cache_hits', 0):.0f}, failures "
          f"{use.get('failures', 0):.0f}, repairs {use.get('repairs', 0):.0f}; translation time (first subject "
          f"asks, the others replay the cache) {t_translate:.1f}s")
    print("\n== false positives (caught = not published)")
    print(f"  Chinese items vs the other subjects   {_fmt(mean_with_ci([float(x) for x in fp_zh]))}")
    print(f"  other subjects' English items         {_fmt(mean_with_ci([float(x) for x in fp_en]))}  goal <= 0.01")
    print(f"  docs questions vs each subject        {_fmt(mean_with_ci([float(x) for x in fp_docs]))}  goal <= 0.01")
    print(f"  docs questions vs all corpora         {_fmt(mean_with_ci([float(x) for x in fp_all]))}  goal <= 0.01")
    print(f"  docs questions from {docs_src}; English items sent to the model: {en_calls} "
          "(English read as another language: 2 of the 1,046 English dev items and docs questions, as Portuguese)")
    if args.write_calibration:
        write_calibration(args, drawn_from, recall_on, fp_zh)


def write_calibration(args: argparse.Namespace, pool: int, recall: list[bool], fp: list[bool]) -> None:
    """This run's two figures as sets of the shipped calibration (with this command), replacing a set of the
    same name: the card of every release built after carries them."""
    held = f", none of seed {args.held_out_from}'s sample" if args.held_out_from is not None else ""
    name = f"Chinese translations ({len(recall)} of {pool}, seed {args.seed}{held}; translator {args.model}, no judge)"
    command = ("PYTHONPATH=$PWD .venv/bin/python -u bench/contamination_translations.py "
               f"--sample {args.sample} --seed {args.seed} --model {args.model} --slots {args.slots}"
               + (f" --held-out-from {args.held_out_from}" if args.held_out_from is not None else "")
               + " --write-calibration")
    replace_sets([{"name": name, "n": len(recall), "caught": round(sum(recall) / len(recall), 4), "command": command},
                  {"name": f"{name}: against the other subjects", "n": len(fp),
                   "not_published": round(sum(fp) / len(fp), 4), "command": command}])
    print(f"\nwrote its figures to {CALIBRATION_FILE.relative_to(ROOT)}")


def _how(d: Detection) -> str:
    if d.status == "clean":
        return "clean"
    if d.status == "unchecked":
        return "unchecked (translation failed)"
    stage = d.finding.stage if d.finding is not None else d.status
    return f"{stage} after translation" if "after translation" in d.reason else stage


def _fmt(e: Estimate) -> str:
    return f"{e.mean:.4f} [{e.ci_low:.4f}, {e.ci_high:.4f}] (n={e.n})"


@contextlib.contextmanager
def translator_client(args: argparse.Namespace, cache: Path) -> Iterator[tuple[Any, Callable[[], dict[str, float]]]]:
    """The translator's client, served for the run (a local model: its own llama.cpp server with
    --slots slots), and a function returning its usage so far."""
    from benchmint.modelspec import parse_model_ref
    from benchmint.pool import ModelPool

    spec = parse_model_ref(args.model).model_copy(
        update={"temperature": 0.0, "max_concurrency": args.slots, "n_ctx": 4096})
    with ModelPool({"translator": spec}, cache) as pool:
        client = pool["translator"]
        yield client, lambda: client.usage.as_dict().get("translator", {})


if __name__ == "__main__":
    main()
