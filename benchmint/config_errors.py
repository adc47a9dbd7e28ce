"""A config's validation error as one line that names the key, and a true/false given for a number."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError


def _number_type(tp: Any) -> bool:
    args = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
    return any(a in (int, float) for a in args)


def _sub_models(tp: Any) -> list[type[BaseModel]]:
    """Record types a field holds: itself, its optional form, or the items of a list."""
    found = []
    for a in (tp, *typing.get_args(tp)):
        if isinstance(a, type) and issubclass(a, BaseModel):
            found.append(a)
    return found


def bool_for_number(model: type[BaseModel], data: Any, loc: str = "") -> str | None:
    """The dotted key of the first number field of `model` that `data` gives as true/false, or None."""
    if not isinstance(data, dict):
        return None
    for key, value in data.items():
        f = model.model_fields.get(key) if isinstance(key, str) else None
        if f is None:
            continue
        where = f"{loc}{key}"
        if isinstance(value, bool) and _number_type(f.annotation):
            return where
        for sub in _sub_models(f.annotation):
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                found = bool_for_number(sub, item, f"{where}.{i}." if isinstance(value, list) else f"{where}.")
                if found:
                    return found
    return None


def first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return f"unknown key '{loc}'; remove it or check its spelling"
    if err["type"] == "missing":
        return f"missing key '{loc}'"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return msg if loc == "(top level)" else f"'{loc}': {msg}"
