"""Record the generator reply that the canary test's endpoint stand-in replays
(tests/data/canary_generator_reply.json).

The canary test's generator is a remote endpoint with a key in its URL; the stand-in for it
answers with what the real embedded Qwen2.5-Coder-1.5B wrote for the test's document, recorded
here once: the test then publishes on every run, in seconds, whatever the machine's load
(SmolLM2-135M's own questions are refused by the quality validator). Run again after a change
to the single-hop prompt or its schema:

    .venv/bin/python -m tests.data.record_canary_generator
"""

from __future__ import annotations

from benchmint.env import apply_offline_defaults

apply_offline_defaults()

import json  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

from benchmint.config import cache_root  # noqa: E402
from benchmint.llm import ModelClient  # noqa: E402
from benchmint.local_models import resolve_local_gguf  # noqa: E402
from benchmint.local_server import LocalServer  # noqa: E402
from benchmint.modelspec import ModelSpec  # noqa: E402
from benchmint.records import Document, sha256_text  # noqa: E402
from benchmint.usage import UsageBook  # noqa: E402
from corpora.chunking import chunk_documents  # noqa: E402
from generators.single_hop import SCHEMAS, SingleHopGenerator  # noqa: E402
from tests.test_secrets_canary import FEED_TEXT, GENERATOR_KIND, QUESTIONS_PER_CHUNK  # noqa: E402

MODEL = "local:qwen2.5-coder-1.5b"
OUT = Path(__file__).with_name("canary_generator_reply.json")


def main() -> None:
    doc = Document(id=sha256_text(FEED_TEXT), title="Korvath K-12 facts", source="feed", text=FEED_TEXT, format="feed")
    chunk = chunk_documents([doc])[0]
    with LocalServer(resolve_local_gguf(MODEL, cache_root()), n_ctx=4096) as server:
        client = ModelClient(ModelSpec(model=MODEL, max_tokens=900), "generator", UsageBook(), None,
                             base_url=server.base_url, identity="record")
        gen = SingleHopGenerator(client, QUESTIONS_PER_CHUNK, [GENERATOR_KIND])
        reply = client.complete_json(gen.messages(chunk, doc, GENERATOR_KIND), SCHEMAS[GENERATOR_KIND], seed=0)
    OUT.write_text(json.dumps({"model": MODEL, "recorded": date.today().isoformat(), "kind": GENERATOR_KIND,
                               "content": reply.model_dump(mode="json")}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
