"""What a cost estimate (pipeline.estimate) has to assume, with where each default comes from.

Tokens are counted from characters, at a ratio per model family: no tokenizer is loaded (the local GGUF's
would need llama.cpp, a hosted model's is not at hand offline). The local models' ratios were measured on
the prompts a build of examples/docs renders, with the model's own vocabulary (llama.cpp, vocab only).
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmint.config import BuildConfig
from benchmint.modelspec import ModelSpec

# characters per token by family (the first name found in the model's name), on English prose and prompt
# markup. Measured: Qwen2.5 4.25 and SmolLM2 4.03 (the generation prompts of the 23 chunks of examples/docs, 61,481
# characters, with each GGUF's vocabulary); the others are the families' usual English figures, rounded down.
CHARS_PER_TOKEN = {"qwen": 4.25, "smollm": 4.0, "llama": 4.0, "gpt": 4.0, "claude": 3.5, "mistral": 3.7,
                   "gemma": 4.0, "phi": 3.7}
DEFAULT_CHARS_PER_TOKEN = 3.8  # a little under the measured ones: an unknown tokenizer is rather overcounted
# a chat message's markup (role, start and end tokens) and the assistant's opening, in tokens
MESSAGE_TOKENS = 5
REPLY_PRIMER_TOKENS = 3

# generation replies that fail the schema and take a repair call, per step. True/false steps (a statement and
# its negated twin) fail most: Qwen2.5-Coder-1.5B 6 of 12 steps, SmolLM2-135M 46 of 108 (the kill bench's
# builds). Other kinds: Qwen 0 of 14 steps on llama-server's schema-constrained decoding, SmolLM2 8 of 48 (the
# concurrency bench); a hosted API decoding to the schema is taken to be like Qwen.
REPAIR_RATE_BY_KIND = {"tf": 0.45}
REPAIR_RATE_BY_FAMILY = {"smollm": 0.17}
DEFAULT_REPAIR_RATE = 0.05


def by_family(spec: ModelSpec, table: dict[str, float], default: float) -> float:
    """The figure of the first family in `table` the model's name contains; `default` for none."""
    name = spec.model.lower()
    return next((r for family, r in table.items() if family in name), default)


def chars_per_token(spec: ModelSpec) -> float:
    return by_family(spec, CHARS_PER_TOKEN, DEFAULT_CHARS_PER_TOKEN)


def prompt_tokens(messages: list[dict[str, str]], cpt: float) -> float:
    """A chat prompt's tokens, from its characters and the markup of its messages."""
    chars = sum(len(m.get("content") or "") for m in messages)
    return chars / cpt + MESSAGE_TOKENS * len(messages) + REPLY_PRIMER_TOKENS


@dataclass
class Assumptions:
    """The rates an estimate assumes; each default is a figure from the measured builds (BENCHMARKS.md and
    the manifests of the acceptance builds), rounded."""

    acceptance: float
    """Accepted questions per candidate written. With targets 0.6 (round 0 of the adaptive builds in
    BENCHMARKS.md: 54 accepted of 90); without 0.75 (the same candidates less the difficulty rejections)."""
    reach_targets: float = 0.75
    """Candidates that pass grounding, quality and dedup and so are put to the targets (BENCHMARKS.md,
    round 0 of the first adaptive build: 9 of 12)."""
    repair_rate: float | None = None
    """Generation replies that take a repair call, for every step; None: by the step's kind and the model's
    family (REPAIR_RATE_BY_KIND, REPAIR_RATE_BY_FAMILY, DEFAULT_REPAIR_RATE)."""
    reply_tokens_per_question: int = 105
    """Completion tokens of a generation reply per question asked (Qwen, 3 a step: 226-344 a call, 327 on
    average in `make run`)."""
    target_reply_tokens: int = 25
    """Completion tokens of a target's answer (measured 19-57)."""
    judge_reply_tokens: int = 40
    """Completion tokens of a judge's vote, reason and verdict (measured 20-58)."""
    judged_open: float = 0.75
    """Target replies to an open question that are no exact match, so the judge panel votes on them."""
    gold_checked: float = 0.1
    """Measured candidates no target answered, whose gold the judge panel checks."""
    contamination_judged: float = 0.0
    """Candidates in the contamination judge's middle band (none of 224 questions from examples/docs
    reached it in BENCHMARKS.md)."""

    @classmethod
    def defaults(cls, with_targets: bool, **overrides: float) -> "Assumptions":
        return cls(acceptance=0.6 if with_targets else 0.75, **overrides)

    def chars_per_token(self, spec: ModelSpec) -> float:
        return chars_per_token(spec)

    def repair_rate_for(self, spec: ModelSpec, kind: str) -> float:
        """The share of `kind` steps whose reply `spec` must repair."""
        if self.repair_rate is not None:
            return self.repair_rate
        if (by_kind := REPAIR_RATE_BY_KIND.get(kind.split(":", 1)[0])) is not None:
            return by_kind
        return by_family(spec, REPAIR_RATE_BY_FAMILY, DEFAULT_REPAIR_RATE)

    def lines(self, roles: dict[str, ModelSpec], cfg: BuildConfig) -> list[str]:
        """The assumptions in words, as the estimate prints them."""
        ratios = sorted({f"{s.model} {chars_per_token(s):g}" for s in roles.values()})
        out = [f"acceptance {self.acceptance:g}: accepted questions per candidate (with targets 0.6, without 0.75, "
               "from the measured builds; --acceptance to change)",
               f"{cfg.generation.questions_per_chunk} candidates per step (questions_per_chunk; multi-hop one less)",
               self._repair_line(roles["generator"]),
               f"a generation reply: {self.reply_tokens_per_question} tokens per question asked, at most max_tokens",
               f"tokens from characters, per model family (characters per token: {', '.join(ratios)}), "
               f"plus {MESSAGE_TOKENS} per message"]
        if any(r.startswith("target") for r in roles):
            out.append(f"{self.reach_targets:.0%} of candidates pass grounding, quality and dedup and go to the "
                       f"targets; a target's reply {self.target_reply_tokens} tokens")
        if any(r.startswith("judge") for r in roles):
            out.append(f"the judges vote on {self.judged_open:.0%} of the targets' replies to open questions and check "
                       f"the gold of {self.gold_checked:.0%} of the measured candidates; "
                       f"a vote {self.judge_reply_tokens} tokens")
        if "contamination_judge" in roles:
            out.append(f"the contamination judge sees {self.contamination_judged:.0%} of the candidates (its middle "
                       "band; the ceiling: every one)")
        if cfg.generation.multi_hop:
            out.append("a multi-hop step's partner chunk: the next chunk (a build pairs chunks by embeddings)")
        if cfg.adaptive.rounds > 1:
            out.append("adaptive rounds take the next chunks in corpus order (a build's agent picks its own)")
        out.append("cached replies cost nothing: a rerun with the same prompts spends less")
        return out

    def _repair_line(self, generator: ModelSpec) -> str:
        what = "(one more call with the reply in its prompt)"
        if self.repair_rate is not None:
            return f"{self.repair_rate:.0%} of generation replies repaired {what}"
        return (f"{self.repair_rate_for(generator, 'open'):.0%} of generation replies repaired, "
                f"{REPAIR_RATE_BY_KIND['tf']:.0%} of true/false ones {what}")
