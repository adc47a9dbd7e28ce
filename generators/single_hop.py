"""Single-hop generator: per chunk, the evaluator model writes cited questions.

The model is asked to quote first (verbatim citations), then ask, then answer:
small models ground far better in that order. Multiple-choice options are built
here from the answer and three distractors, so there is always exactly one gold
choice at a position chosen by a seeded shuffle. Numeric questions carry a unit
and a tolerance (half a unit of the last digit written). True/false items are
written as a true statement and a false twin; a seeded coin picks which one is
asked, so both truth values occur, and the true statement is kept as the
rationale that grounding checks.

An adaptive round passes a `focus` (failure patterns and failed examples); it is
appended to the prompt, so the same chunk yields new, aimed questions.
"""

from __future__ import annotations

import random
import re

from pydantic import BaseModel, Field

from benchmint.arithmetic import evaluate_arithmetic, format_number
from benchmint.fence import fence, neutralize
from benchmint.llm import ModelClient
from benchmint.prompts import Prompt, Tactic, load_prompt, load_tactics
from benchmint.quantities import like_quantities
from benchmint.records import Chunk, Citation, Document, Question, question_id
from corpora.chunking import sentence_spans
from generators.base import GenerationStep


class DraftOpen(BaseModel):
    citations: list[str] = Field(min_length=1, max_length=2)
    question: str
    answer: str
    difficulty: int = Field(default=3, ge=1, le=5)


class DraftMCQ(BaseModel):
    citations: list[str] = Field(min_length=1, max_length=2)
    question: str
    answer: str
    distractors: list[str] = Field(min_length=3, max_length=3)
    difficulty: int = Field(default=3, ge=1, le=5)


class DraftNumeric(BaseModel):
    citations: list[str] = Field(min_length=1, max_length=2)
    question: str
    answer: str
    unit: str = ""
    difficulty: int = Field(default=3, ge=1, le=5)


class DraftComputed(BaseModel):  # the arithmetic first, then the question that asks for its result
    citations: list[str] = Field(min_length=1, max_length=2)
    derivation: str
    question: str
    answer: str
    unit: str = ""
    difficulty: int = Field(default=3, ge=1, le=5)


class DraftTF(BaseModel):
    citations: list[str] = Field(min_length=1, max_length=2)
    statement: str
    false_statement: str
    difficulty: int = Field(default=3, ge=1, le=5)


class OpenSet(BaseModel):
    questions: list[DraftOpen] = Field(min_length=1, max_length=10)


class MCQSet(BaseModel):
    questions: list[DraftMCQ] = Field(min_length=1, max_length=10)


class NumericSet(BaseModel):
    questions: list[DraftNumeric] = Field(min_length=1, max_length=10)


class ComputedSet(BaseModel):
    questions: list[DraftComputed] = Field(min_length=1, max_length=10)


class TFSet(BaseModel):
    questions: list[DraftTF] = Field(min_length=1, max_length=10)


SCHEMAS: dict[str, type[BaseModel]] = {"open": OpenSet, "mcq": MCQSet, "numeric": NumericSet, "tf": TFSet,
                                       "numeric:computed": ComputedSet}
_KIND_TEXT = {
    "open": ("open questions with a short free-text answer", ""),
    "mcq": ("multiple-choice questions",
            '- "distractors": three wrong but plausible answers of the same type as the answer, '
            "each different from the answer and from each other.\n"),
    "numeric": ("questions whose answer is a number stated in the excerpt",
                '- "unit": the unit of the answer, e.g. "km", "hours" or "%" ("" when it has none); '
                'the "answer" is then the number alone, in digits, as written in the citation.\n'),
}


def tolerance_of(answer: str) -> float:
    """Half a unit of the last digit written: "4.5" -> 0.05, "120" -> 0.5."""
    m = re.search(r"\d(?:[\d,]*)(?:\.(\d+))?", answer)
    if m is None:
        return 0.0
    return 0.5 * 10 ** -(len(m.group(1)) if m.group(1) else 0)


def with_focus(messages: list[dict[str, str]], focus: str) -> list[dict[str, str]]:
    if not focus:
        return messages
    out = [dict(m) for m in messages]
    out[-1]["content"] = out[-1]["content"] + "\n\n" + neutralize(focus)  # it quotes generated questions
    return out


def number_sentences(text: str, limit: int = 12) -> list[str]:
    """The sentences of `text` that hold a number (digits), in order, at most `limit`."""
    out = []
    for s, e in sentence_spans(text):
        sentence = " ".join(text[s:e].split())
        if re.search(r"\d", sentence) and sentence not in out:
            out.append(sentence)
    return out[:limit]


class SingleHopGenerator:
    name = "single_hop"

    def __init__(self, client: ModelClient, questions_per_chunk: int = 3,
                 kinds: list[str] | None = None, seed: int = 0, prompt: Prompt | None = None):
        self.client = client
        self.n = questions_per_chunk
        # the kinds this generator writes; the build flow names one per step (kind_for is the
        # fallback when a caller gives none)
        self.kinds = tuple(sorted(kinds or ["open", "mcq"]))
        self.seed = seed
        self.prompt = prompt or load_prompt("single_hop")
        self.tf_prompt = load_prompt("true_false")
        self.tactics = load_tactics()

    def kind_for(self, chunk: Chunk) -> str:
        """Kinds alternate over a document's chunks, so the mix follows the config."""
        return self.kinds[chunk.index % len(self.kinds)]

    def prompts(self, kinds: list[str] | None = None) -> dict[str, str]:
        """Prompt id -> version used by `kinds` (default: the configured kinds)."""
        used = {self.prompt.id: self.prompt.version}
        for kind in kinds if kinds is not None else self.kinds:
            if kind.split(":", 1)[0] == "tf":
                used[self.tf_prompt.id] = self.tf_prompt.version
            if ":" in kind:
                used[self.tactics.id] = self.tactics.version
        return used

    def messages(self, chunk: Chunk, doc: Document, kind: str, focus: str = "") -> list[dict[str, str]]:
        """`kind` is a kind ("mcq") or a kind in a harder form ("mcq:near_miss", prompts/tactics.yaml)."""
        base, tactic = kind.split(":", 1)[0], self.tactics.tactics.get(kind)
        if base == "tf":
            msgs = self.tf_prompt.render(title=neutralize(doc.title), document=fence(chunk.text), n=str(self.n))
        else:
            what, extra = _KIND_TEXT[base]
            if tactic is not None:
                what, extra = tactic.kind_text or what, tactic.kind_fields or extra
            msgs = self.prompt.render(title=neutralize(doc.title), document=fence(chunk.text), n=str(self.n),
                                      kind_text=what, kind_fields=extra)
        if tactic is not None and tactic.extra:
            msgs = with_focus(msgs, tactic.extra)
        if tactic is not None and (tactic.pairs_text or tactic.facts_text):
            msgs = with_focus(msgs, self.facts(tactic, chunk.text))
        return with_focus(msgs, focus)

    @staticmethod
    def facts(tactic: Tactic, text: str) -> str:
        """The material a computed question is built from: the excerpt's like quantities in pairs,
        or, when it has none, its sentences that hold numbers ("" when it has neither)."""
        pairs = like_quantities(text)
        if pairs:
            return tactic.pairs_text + "\n" + "\n".join(f"- {neutralize(a)} and {neutralize(b)}" for a, b in pairs)
        facts = number_sentences(text)
        return tactic.facts_text + "\n" + "\n".join(f"- {neutralize(f)}" for f in facts) if facts else ""

    def generate(self, step: GenerationStep) -> list[Question]:
        """The Generator protocol: the questions of a one-chunk step."""
        return self.generate_one(step.chunks[0], step.documents[0], step.round, step.kind, step.focus)

    def prompt_versions(self, step: GenerationStep) -> dict[str, str]:
        return self.prompts([step.kind])

    def generate_one(self, chunk: Chunk, doc: Document, round_: int = 0, kind: str | None = None,
                     focus: str = "") -> list[Question]:
        """Questions for one chunk; raises ModelError/ModelOutputError for the caller to record."""
        kind = kind or self.kind_for(chunk)
        if ":" in kind and kind not in self.tactics.tactics:
            raise ValueError(f"unknown tactic {kind!r}; known: {', '.join(self.tactics.tactics)}")
        schema = SCHEMAS.get(kind) or SCHEMAS[kind.split(":", 1)[0]]
        drafts = self.client.complete_json(self.messages(chunk, doc, kind, focus), schema, seed=self.seed)
        return [q for i, d in enumerate(drafts.questions[: self.n]) if (q := self._to_question(d, kind, chunk, i, round_))]

    def _to_question(self, d: BaseModel, shape: str, chunk: Chunk, i: int, round_: int) -> Question | None:
        kind, _, tactic = shape.partition(":")
        if isinstance(d, DraftTF):
            return self._tf_question(d, chunk, i, round_, tactic)
        question, answer = d.question.strip(), d.answer.strip()
        if not question or not answer:
            return None
        choices: list[str] = []
        gold = -1
        unit, tolerance = "", 0.0
        derivation = getattr(d, "derivation", "").split("=", 1)[0].strip()
        if derivation:
            # the gold of a computed question is the derivation's value, worked out here: small
            # models set up the arithmetic well and often get its result wrong
            try:
                answer = format_number(evaluate_arithmetic(derivation)[0])
            except ValueError:
                pass  # kept as written; grounding rejects it, naming the derivation
        if kind == "numeric":
            unit = getattr(d, "unit", "").strip()
            tolerance = tolerance_of(answer)
        if kind == "mcq":
            options = [answer] + [x.strip() for x in getattr(d, "distractors", [])]
            rng = random.Random(f"{self.seed}:{chunk.id}:{i}:{question}")
            order = list(range(len(options)))
            rng.shuffle(order)
            choices = [options[k] for k in order]
            gold = order.index(0)
        cites = [Citation(quote=c.strip(), chunk_id=chunk.id, document_id=chunk.document_id)
                 for c in d.citations if c.strip()]
        return Question(
            id=question_id(question, answer), question=question, answer=answer, kind=kind,
            choices=choices, gold_index=gold, unit=unit, tolerance=tolerance, citations=cites,
            document_ids=[chunk.document_id], chunk_ids=[chunk.id], generator_model=self.client.spec.label,
            prompt_id=self.prompt.id, prompt_version=self.prompt.version, estimated_difficulty=d.difficulty,
            round=round_, tactic=tactic, derivation=derivation,
        )

    def _tf_question(self, d: DraftTF, chunk: Chunk, i: int, round_: int, tactic: str = "") -> Question | None:
        true, false = d.statement.strip(), d.false_statement.strip()
        if not true:
            return None
        # a seeded coin: ask the false twin half of the time (when there is one)
        ask_false = bool(false) and random.Random(f"{self.seed}:{chunk.id}:{i}:{true}").random() < 0.5
        stated = false if ask_false else true
        question = f"True or false: {stated}"
        answer = "False" if ask_false else "True"
        cites = [Citation(quote=c.strip(), chunk_id=chunk.id, document_id=chunk.document_id)
                 for c in d.citations if c.strip()]
        return Question(
            id=question_id(question, answer), question=question, answer=answer, kind="tf",
            choices=["True", "False"], gold_index=1 if ask_false else 0, rationale=true, citations=cites,
            document_ids=[chunk.document_id], chunk_ids=[chunk.id], generator_model=self.client.spec.label,
            prompt_id=self.tf_prompt.id, prompt_version=self.tf_prompt.version, estimated_difficulty=d.difficulty,
            round=round_, tactic=tactic,
        )
