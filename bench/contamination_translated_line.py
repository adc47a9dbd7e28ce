"""Where the review line for translated candidates should sit (`translated_review_threshold`), measured.

A machine translation rewords: of the Chinese translations the embedded translator missed, half sit at
cosine 0.65-0.70 to their item, under the 0.70 review line. A lower line for translations catches them,
and holds more distinct questions too. So for each line this reports, with no judge:

- recall on the sample the translation fixes came from (seed 0) and on 100 items it never took (seed 1,
  `--held-out-from 0` in bench/contamination_translations.py);
- Chinese hard negatives: every one of those Chinese items against its subject *without its own item*
  (the nearest distinct question of the same subject is what it meets, as bench/contamination_hard.py
  does for English): the share not published;
- Chinese items against the other two subjects (false positives, as in the translations bench).

Translations come from the response cache of those runs (the translator's server starts; a miss is
translated). The line is chosen on seed 0's recall and the hard negatives, and read on seed 1.

    PYTHONPATH=$PWD .venv/bin/python -u bench/contamination_translated_line.py [--lines 0.6,0.65,0.7]
        [--model local:qwen2.5-coder-1.5b] [--slots 4] [--write-calibration]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmint.env import apply_offline_defaults  # noqa: E402

apply_offline_defaults()

from bench.contamination_hard import CachedEmbedder, prepare  # noqa: E402
from bench.contamination_probes import DATA, SUBJECTS, load_subject, sample_translations, translations  # noqa: E402
from bench.contamination_scoring import caught  # noqa: E402
from bench.contamination_translations import translator_client  # noqa: E402
from benchmint.config import cache_root  # noqa: E402
from benchmint.embeddings import Embedder  # noqa: E402
from benchmint.stats import mean_with_ci  # noqa: E402
from validators.contamination.calibration import CALIBRATION_FILE, replace_sets  # noqa: E402
from validators.contamination.config import ContaminationConfig  # noqa: E402


def samples(data: Path, size: int = 100) -> dict[str, list[tuple[str, int, object]]]:
    """The translations bench's two samples: seed 0, and seed 1 among the items seed 0 did not take."""
    subjects = {s: load_subject(s, data) for s in SUBJECTS}
    pool = [(s, i, p) for s, c in subjects.items() for i, p in translations(c, s, data)]
    return {"seed 0 (the fixes' sample)": sample_translations(pool, size, 0),
            "seed 1 (unseen)": sample_translations(pool, size, 1, held_out_from=0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--lines", default="0.6,0.62,0.65,0.68,0.7")
    ap.add_argument("--model", default="local:qwen2.5-coder-1.5b")
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--write-calibration", action="store_true",
                    help="add the Chinese hard negatives held at the shipped line to the shipped calibration")
    args = ap.parse_args()
    data = Path(args.data)
    if not (data / "README.md").is_file():
        print(f"SKIP: {data} is absent (it lives beside the repo, in ../shared/data)")
        return
    lines = [float(x) for x in args.lines.split(",")]
    emb = CachedEmbedder(Embedder(), cache_root() / "bench" / "embeddings.npz")
    base = ContaminationConfig()
    print("preparing the indexes (whole subjects, and each without one item)")
    subjects = {s.name: s for s in prepare(data, emb, cache_root() / "bench" / "hardneg", base)}
    sets = samples(data)
    with translator_client(args, cache_root()) as (client, _):
        print("\n| translated review line | sample | recall [95%] | Chinese hard negatives not published [95%] "
              "| Chinese vs other subjects |")
        print("|---|---|---|---|---|")
        shipped: list[bool] = []  # Chinese hard negatives held at the shipped line, both samples
        for line in lines:
            cfg = base.model_copy(update={"translated_review_threshold": line})
            for name, sample in sets.items():
                recall, hard, other = [], [], []
                for s, subj in subjects.items():
                    for det in (subj.full, *subj.loo):
                        det.config, det.translator = cfg, client
                    own = [(i, p) for t, i, p in sample if t == s]
                    recall += [caught(d) for d in subj.full.detect([p for _, p in own], emb)]
                    other += [caught(d) for d in subj.full.detect([p for t, _, p in sample if t != s], emb)]
                    hard += [caught(subj.loo[i].detect([p], emb)[0]) for i, p in own]
                if line == base.translated_review_threshold:
                    shipped += hard
                r, h, o = (mean_with_ci([float(x) for x in v]) for v in (recall, hard, other))
                print(f"| {line:.2f} | {name} | {r.mean:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}] (n={r.n}) "
                      f"| {h.mean:.3f} [{h.ci_low:.3f}, {h.ci_high:.3f}] (n={h.n}) | {o.mean:.4f} (n={o.n}) |",
                      flush=True)
    emb.save()
    if args.write_calibration and shipped:
        name = (f"Chinese hard negatives ({len(shipped)} translations, each against its subject without its item; "
                f"translator {args.model}, no judge)")
        replace_sets([{"name": name, "n": len(shipped), "not_published": round(sum(shipped) / len(shipped), 4),
                       "command": "PYTHONPATH=$PWD .venv/bin/python -u bench/contamination_translated_line.py "
                                  f"--lines {base.translated_review_threshold} --write-calibration"}])
        print(f"wrote {name}: {sum(shipped) / len(shipped):.4f} to {CALIBRATION_FILE.relative_to(ROOT)}")

if __name__ == "__main__":
    main()
