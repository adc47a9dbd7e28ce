"""Shared fixtures: one Prefect test harness per session, one real llama.cpp server
(SmolLM2) per session, real PDFs written with reportlab (the data and builders are in tests/fixtures.py)."""

from __future__ import annotations

from benchmint.env import apply_offline_defaults

apply_offline_defaults()

import os  # noqa: E402
import signal  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from benchmint.embeddings import Embedder  # noqa: E402
from benchmint.llm import ModelClient  # noqa: E402
from benchmint.local_models import resolve_local_gguf  # noqa: E402
from benchmint.local_server import LocalServer  # noqa: E402
from benchmint.modelspec import ModelSpec  # noqa: E402
from benchmint.response_cache import ResponseCache  # noqa: E402
from benchmint.usage import UsageBook  # noqa: E402
from tests.fixtures import MD_TEXT, PDF_FACTS, write_pdf  # noqa: E402

UNIT = Path(__file__).resolve().parent / "unit"
# what a test in tests/unit may not use: an LLM server, the default model's files, Prefect
HEAVY_FIXTURES = {"cache_dir", "smollm_gguf", "smollm_server", "smollm_client", "prefect_harness", "prefect_server",
                  "sources"}


# Ctrl-C as in a terminal for every process a test starts: a suite run as a shell's background job (a CI runner
# started with `&`) inherits an ignored SIGINT, which every child inherits in turn, and Python then installs no
# KeyboardInterrupt there. A handler of our own is reset to the default in each child at exec.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tiers: tests/unit is `unit` (no LLM, no Prefect: checked here), an explicit `slow` mark is the
    end-to-end tier on the default model, and every other test is `model` (SmolLM2, a real flow run)."""
    for item in items:
        if UNIT in Path(item.path).resolve().parents:
            heavy = sorted(HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())))
            if heavy:
                raise pytest.UsageError(f"{item.nodeid} is in tests/unit but uses {', '.join(heavy)}; "
                                        "move it to tests/ (the model tier)")
            item.add_marker(pytest.mark.unit)
        elif item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """A session cache folder (responses, logs); the joined Qwen GGUF is shared with the user cache."""
    d = tmp_path_factory.mktemp("benchmint-cache")
    models = Path(os.path.expanduser("~/.cache/benchmint/models"))
    models.mkdir(parents=True, exist_ok=True)
    (d / "models").symlink_to(models)
    return d


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def smollm_gguf(cache_dir) -> Path:
    return resolve_local_gguf("local:smollm2-135m", cache_dir)


@pytest.fixture(scope="session")
def smollm_server(smollm_gguf, cache_dir):
    with LocalServer(smollm_gguf, n_ctx=2048, log_path=cache_dir / "smollm-test-server.log") as server:
        yield server


@pytest.fixture()
def smollm_client(smollm_server, tmp_path):
    spec = ModelSpec(model="local:smollm2-135m", max_tokens=200)
    return ModelClient(spec, "generator", UsageBook(), ResponseCache(tmp_path / "responses"),
                       base_url=smollm_server.base_url, identity="local:smollm2-test")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture()
def pdf_factory(tmp_path):
    def make(name: str, paragraphs: list[str], title: str = "Test document") -> Path:
        return write_pdf(tmp_path / name, paragraphs, title)

    return make


@pytest.fixture(scope="session")
def sources(tmp_path_factory) -> Path:
    """Korvath documents (a real PDF and markdown) beside a corrupt PDF, an empty file and a binary file."""
    src = tmp_path_factory.mktemp("sources")
    write_pdf(src / "k12-spec.pdf", PDF_FACTS, title="Korvath K-12 specification")
    (src / "service.md").write_text(MD_TEXT, encoding="utf-8")
    (src / "broken.pdf").write_bytes(b"%PDF-1.4\n% truncated nonsense " + os.urandom(300))
    (src / "empty.md").write_text("")
    (src / "firmware.bin").write_bytes(os.urandom(2048))
    return src
