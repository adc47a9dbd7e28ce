"""The clients a build uses, by role: one llama.cpp server per local GGUF, one breaker per endpoint."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

from benchmint.breaker import Endpoint
from benchmint.llm import ModelClient
from benchmint.local_models import chat_template_for, resolve_local_gguf
from benchmint.local_server import LocalServer
from benchmint.modelspec import ModelSpec
from benchmint.response_cache import ResponseCache
from benchmint.secrets import redact_url
from benchmint.usage import StepUsage, UsageBook


class ModelPool:
    """Clients by role; starts one llama.cpp server per local GGUF and stops them all."""

    def __init__(self, roles: dict[str, ModelSpec], cache_dir: Path, use_cache: bool = True):
        self.roles = roles
        self.cache_dir = cache_dir
        self.usage = UsageBook()
        self.cache = ResponseCache(cache_dir / "responses") if use_cache else None
        self.servers: dict[Path, LocalServer] = {}
        self.clients: dict[str, ModelClient] = {}
        self.endpoints: dict[str, Endpoint] = {}  # by shown URL: the roles on one endpoint share its breaker

    def _endpoint(self, url: str, spec: ModelSpec) -> Endpoint:
        shown = redact_url(url)
        if shown not in self.endpoints:
            self.endpoints[shown] = Endpoint(shown, spec.max_consecutive_failures)
        return self.endpoints[shown]

    def check(self) -> None:
        """Raise EndpointDown when an endpoint's circuit breaker is open (the build stops)."""
        for ep in self.endpoints.values():
            if ep.open:
                raise ep.down()

    def absorb(self, step: StepUsage) -> None:
        """A step run in another process: its usage into this pool's book, and its breaker events onto the
        breaker of its endpoint here (the one `check` reads)."""
        self.usage.merge(step)
        endpoint = self.endpoints.get(step.endpoint)
        for event in step.breaker if endpoint is not None else ():
            if event:
                endpoint.failed(event)
            else:
                endpoint.succeeded()

    def faults(self) -> dict[str, object]:
        return self.usage.faults()

    def __enter__(self) -> "ModelPool":
        try:
            for role, spec in self.roles.items():
                self.clients[role] = self._client_for(role, spec)
        except BaseException:
            self.close()
            raise
        return self

    def _client_for(self, role: str, spec: ModelSpec) -> ModelClient:
        if not spec.is_local:
            return ModelClient(spec, role, self.usage, self.cache, endpoint=self._endpoint(spec.base_url or "", spec))
        gguf = resolve_local_gguf(spec.model, self.cache_dir)
        template = chat_template_for(spec.model)
        server = self.servers.get(gguf)
        if server is None:
            logs = self.cache_dir / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            server = LocalServer(gguf, n_ctx=spec.n_ctx, slots=spec.max_concurrency, chat_template=template,
                                 log_path=logs / f"llama-server-{gguf.stem}.log", speculative=spec.speculative).start()
            self.servers[gguf] = server
        identity = f"local:{gguf.name}:{gguf.stat().st_size}"
        if template:  # the template shapes every reply: a changed one must not replay the cached replies
            identity += f":template-{hashlib.sha256(template.encode()).hexdigest()[:12]}"
        spec = spec.model_copy(update={"max_concurrency": server.slots})  # 1 on the llama_cpp.server fallback
        return ModelClient(spec, role, self.usage, self.cache, base_url=server.base_url, identity=identity,
                           endpoint=self._endpoint(server.base_url, spec))

    def __getitem__(self, role: str) -> ModelClient:
        return self.clients[role]

    def close(self) -> None:
        # the servers first: closing a client waits for a reply another thread is still reading (a long
        # generation, on Ctrl-C), and a stopped server ends that read at once
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        for client in self.clients.values():
            client.close()

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def open_models(roles: dict[str, ModelSpec], cache_dir: Path, use_cache: bool = True) -> Iterator[ModelPool]:
    with ModelPool(roles, cache_dir, use_cache) as pool:
        yield pool
