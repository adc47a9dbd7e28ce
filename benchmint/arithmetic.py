"""Safe evaluation of the short arithmetic a computed question's derivation holds."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import TypeVar

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_APPLY: dict[str, Callable[[float, float], float]] = {"+": operator.add, "-": operator.sub, "*": operator.mul,
                                                      "/": operator.truediv}
T = TypeVar("T")


def parse_arithmetic(expr: str) -> ast.expr:
    """The expression tree of `expr` (see evaluate_arithmetic for what is accepted)."""
    clean = expr.split("=", 1)[0].replace("×", "*").replace("÷", "/").replace("−", "-").replace("–", "-")
    clean = re.sub(r"(?<=\d),(?=\d{3})", "", clean)
    clean = re.sub(r"[A-Za-z%$€£°µ]+\.?", " ", clean).strip()
    if not clean:
        raise ValueError(f"no arithmetic in {expr!r}")
    try:
        tree = ast.parse(clean, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not arithmetic: {expr!r}") from exc
    return tree.body


def fold(node: ast.expr, leaf: Callable[[float], T], op: Callable[[str, T, T], T], neg: Callable[[T], T],
         expr: str = "") -> T:
    """Walk an arithmetic tree: `leaf` for each number, `op` ("+", "-", "*", "/") for each
    operation, `neg` for a unary minus; ValueError on anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return leaf(float(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        o = node.operand
        if isinstance(o, ast.Constant) and isinstance(o.value, (int, float)) and not isinstance(o.value, bool):
            return leaf(-float(o.value))  # "-4" is the number -4, as the text writes it
        return neg(fold(o, leaf, op, neg, expr))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return op(_OPS[type(node.op)], fold(node.left, leaf, op, neg, expr), fold(node.right, leaf, op, neg, expr))
    raise ValueError(f"not arithmetic: {expr!r}")


def evaluate_arithmetic(expr: str) -> tuple[float, list[float]]:
    """The value of `expr` (numbers, + - * / and parentheses; thousands separators, units and
    words between numbers are ignored; "a - b = c" is read as "a - b") and the numbers it uses.
    ValueError when it is anything else."""
    numbers: list[float] = []

    def leaf(x: float) -> float:
        numbers.append(x)
        return x

    def op(sym: str, a: float, b: float) -> float:
        if sym == "/" and b == 0:
            raise ValueError(f"division by zero in {expr!r}")
        return _APPLY[sym](a, b)

    value = fold(parse_arithmetic(expr), leaf, op, operator.neg, expr)
    if len(numbers) < 2:
        raise ValueError(f"a derivation needs two or more numbers: {expr!r}")
    return value, numbers


def format_number(value: float) -> str:
    """An answer as written: an integer without decimals, else two decimals ("3.33")."""
    if abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    return f"{value:.2f}".rstrip("0").rstrip(".")
