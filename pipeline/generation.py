"""Running one generation step: in the flow's process, or in another (a Dask worker) from the generator's spec.

Its own small module because a Dask scheduler unpickles every task it is sent, importing the module of the
task's function: this one imports only what a step needs (the generators and the records), not the whole
pipeline.
"""

from __future__ import annotations

from benchmint.errors import ModelFault, ModelOutputError
from benchmint.step_books import counted
from generators.base import GenerationStep, Generator
from generators.spec import GeneratorSpec, generator_for
from pipeline.records import StepOutcome


def step_code_loaded() -> bool:
    """True. Sent to another process by reference, it has that process import this module, the code and records a
    generation step needs (flows.runner.load_step_code), before the first step does."""
    return True


def generate_step(generator: Generator, step: GenerationStep) -> StepOutcome:
    """One step's questions; a reply that is not usable is recorded (error and fault kind), not raised."""
    try:
        return StepOutcome(questions=generator.generate(step))
    except (ModelOutputError, ModelFault) as exc:
        return StepOutcome(error={"error": str(exc), "kind": exc.kind})


def generate_from_spec(spec: GeneratorSpec, step: GenerationStep) -> StepOutcome:
    """One step in a process other than the flow's (a Dask worker): this process's generator for the spec,
    and the step's usage sent back with its outcome (the rounds merge it into the flow's book). An error that
    ends the step (an unreachable endpoint) raises, as it does in the flow's process."""
    outcome, usage = counted(spec.client.shown_url, lambda: generate_step(generator_for(spec), step))
    return outcome.model_copy(update={"usage": usage})
