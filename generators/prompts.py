"""Prompt templates kept as files under generators/prompts/, each with an id and a version."""

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
