"""A generator as a record: what a worker process needs to build the same generator the flow has.

A generation step sent to another process (a Dask worker) takes a GeneratorSpec instead of a live
generator, whose model client cannot be pickled. The worker builds the generator once per spec and
reuses it, with the process's one client per model (benchmint.remote). Generators built here use the
packaged prompts, as the build's generators do.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from benchmint.records import Record
from benchmint.remote import ClientSpec, client_for, shared
from generators.base import Generator
from generators.multi_hop import MultiHopGenerator
from generators.single_hop import SingleHopGenerator


class GeneratorSpec(Record):
    """Which generator, its parameters and its model (see ClientSpec)."""

    kind: Literal["single_hop", "multi_hop"]
    """SingleHopGenerator or MultiHopGenerator."""
    questions: int = Field(ge=1)
    """Questions per chunk (single-hop) or per pair of chunks (multi-hop)."""
    kinds: list[str] = Field(default_factory=list)
    """Single-hop: the configured kinds (the fallback when a step names none)."""
    seed: int = 0
    """The generator's seed (the model's sampling seed, and the shuffles of choices and true/false twins)."""
    client: ClientSpec
    """The generator model's client."""


def spec_of(generator: Generator) -> GeneratorSpec:
    """The spec of a build's generator (single- or multi-hop)."""
    if isinstance(generator, SingleHopGenerator):
        return GeneratorSpec(kind="single_hop", questions=generator.n, kinds=list(generator.kinds),
                             seed=generator.seed, client=ClientSpec.of(generator.client))
    if isinstance(generator, MultiHopGenerator):
        return GeneratorSpec(kind="multi_hop", questions=generator.n, seed=generator.seed,
                             client=ClientSpec.of(generator.client))
    raise TypeError(f"{type(generator).__name__} has no spec: only single- and multi-hop generators run elsewhere")


def generator_for(spec: GeneratorSpec) -> Generator:
    """This process's generator for `spec`, built once (its client: `client_for`)."""
    def make() -> Generator:
        client = client_for(spec.client)
        if spec.kind == "multi_hop":
            return MultiHopGenerator(client, spec.questions, spec.seed)
        return SingleHopGenerator(client, spec.questions, spec.kinds, spec.seed)

    return shared("generator " + spec.model_dump_json(), make)
