"""What every generator takes and gives: one generation step in, its candidate questions out.

A step is one model call's worth of work: one chunk (single-hop, in a question kind or a harder
form of it) or two chunks (multi-hop), in a round, with the adaptive round's focus appended to the
prompt. Single-hop and multi-hop generation implement `Generator`; adaptive generation is the same
generators given steps that the adaptive agent aimed (kinds, chunks, focus), so the round planner
needs no third kind of generator.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from benchmint.records import Chunk, Document, Question


class GenerationStep(BaseModel):
    """One generation step of a round (a serializable record: a task takes it, never a live client)."""

    model_config = ConfigDict(extra="forbid")

    chunks: list[Chunk] = Field(min_length=1, max_length=2)
    """The chunk the questions are written from; two chunks for a multi-hop step."""
    documents: list[Document] = Field(min_length=1, max_length=2)
    """The document of each chunk, in the same order (titles go into the prompt)."""
    kind: str
    """The question kind ("open", "mcq", ...), a harder form of it ("numeric:computed"), or "multi_hop"."""
    round: int = 0
    """The adaptive round (0: the first, or a plain build)."""
    focus: str = ""
    """An adaptive round's failure patterns and examples, appended to the prompt ("" in round 0)."""

    @property
    def hops(self) -> int:
        return len(self.chunks)

    def portable(self) -> GenerationStep:
        """The step as sent to another process (a Dask worker): its documents without their text and metadata. A
        generator reads a document's title only (the chunk carries the text); a long document's text would
        otherwise travel with each of its steps, through the Dask scheduler too."""
        return self.model_copy(update={"documents": [d.model_copy(update={"text": "", "metadata": {}})
                                                     for d in self.documents]})


class Generator(Protocol):
    """Writes candidate questions for one step; raises ModelOutputError/ModelFault for the caller to record. Of the
    step's documents it reads the titles only (a step run in another process carries no document text:
    GenerationStep.portable)."""

    name: str

    def generate(self, step: GenerationStep) -> list[Question]: ...

    def prompt_versions(self, step: GenerationStep) -> dict[str, str]:
        """Prompt id -> version that `step` uses (recorded in the manifest)."""
        ...
