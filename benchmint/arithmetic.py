"""Safe evaluation of the short arithmetic a computed question's derivation holds."""

from __future__ import annotations

import ast
import operator
import re

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def evaluate_arithmetic(expr: str) -> tuple[float, list[float]]:
    """The value of `expr` (numbers, + - * / and parentheses; thousands separators, units and
    words between numbers are ignored; "a - b = c" is read as "a - b") and the numbers it uses.
    ValueError when it is anything else."""
    clean = expr.split("=", 1)[0].replace("×", "*").replace("÷", "/").replace("−", "-").replace("–", "-")
    clean = re.sub(r"(?<=\d),(?=\d{3})", "", clean)
    clean = re.sub(r"[A-Za-z%$€£°µ]+\.?", " ", clean).strip()
    if not clean:
        raise ValueError(f"no arithmetic in {expr!r}")
    try:
        tree = ast.parse(clean, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not arithmetic: {expr!r}") from exc
    numbers: list[float] = []

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            numbers.append(float(node.value))
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise ValueError(f"division by zero in {expr!r}")
            return _OPS[type(node.op)](left, right)
        raise ValueError(f"not arithmetic: {expr!r}")

    value = ev(tree.body)
    if len(numbers) < 2:
        raise ValueError(f"a derivation needs two or more numbers: {expr!r}")
    return value, numbers


def format_number(value: float) -> str:
    """An answer as written: an integer without decimals, else two decimals ("3.33")."""
    if abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    return f"{value:.2f}".rstrip("0").rstrip(".")
