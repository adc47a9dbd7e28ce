"""Prompt templates kept as files under benchmint/prompts/, each with an id and a version: every role's
prompt (generators, judges, targets) lives in the kernel, so no package imports another's to load one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

PROMPT_DIR = Path(__file__).parent / "prompts"


@dataclass(frozen=True)
class Prompt:
    id: str
    version: str
    system: str
    user: str

    def render(self, **values: str) -> list[dict[str, str]]:
        """Fill {placeholders}; values are inserted once, never re-interpreted."""
        def fill(template: str) -> str:
            return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), template)

        return [{"role": "system", "content": fill(self.system)}, {"role": "user", "content": fill(self.user)}]


def load_prompt(name: str, directory: Path = PROMPT_DIR) -> Prompt:
    path = directory / f"{name}.md"
    raw = path.read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n(.*)$", raw, re.S)
    if not m:
        raise ValueError(f"prompt {path} has no front matter (--- id/version ---)")
    meta = yaml.safe_load(m.group(1))
    sections = dict(re.findall(r"^=== (\w+) ===\n(.*?)(?=^=== \w+ ===\n|\Z)", m.group(2), re.S | re.M))
    return Prompt(id=str(meta["id"]), version=str(meta["version"]),
                  system=sections["system"].strip(), user=sections["user"].strip())


@dataclass(frozen=True)
class Tactic:
    """A harder form of a question kind (see prompts/tactics.yaml)."""

    name: str  # "mcq:near_miss": the kind, then the tactic
    kind: str
    kind_text: str = ""
    kind_fields: str = ""
    extra: str = ""
    # when set, the excerpt's like quantities are listed after pairs_text, else its sentences
    # with numbers after facts_text (the material of a computed question)
    pairs_text: str = ""
    facts_text: str = ""


@dataclass(frozen=True)
class Tactics:
    id: str
    version: str
    tactics: dict[str, Tactic]


def load_tactics(directory: Path = PROMPT_DIR) -> Tactics:
    raw = yaml.safe_load((directory / "tactics.yaml").read_text(encoding="utf-8"))
    tactics = {}
    for name, t in raw["tactics"].items():
        if name.split(":", 1)[0] != t["kind"]:
            raise ValueError(f"tactic {name!r} must start with its kind {t['kind']!r}")
        tactics[name] = Tactic(name=name, kind=t["kind"], kind_text=t.get("kind_text", "").strip(),
                               kind_fields=t.get("kind_fields", ""), extra=t.get("extra", "").strip(),
                               pairs_text=t.get("pairs_text", "").strip(),
                               facts_text=t.get("facts_text", "").strip())
    return Tactics(id=str(raw["id"]), version=str(raw["version"]), tactics=tactics)
