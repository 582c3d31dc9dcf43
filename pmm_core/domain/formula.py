"""A small, safe expression language for KPI formulas.

A KPI formula is written as in the seed, over the seed's letters: ``((A-B)/B)*100``,
``(A+B+C)/3*100``, ``A/B``. The catalog maps each letter to a data point id.

The text is parsed once, at catalog load, with :func:`ast.parse` in ``eval`` mode and
checked against a whitelist: numbers, names, ``+ - * /``, unary minus, parentheses and
the functions ``sum(...)`` and ``mean(...)``. Anything else (attributes, calls to other
names, comparisons, subscripts, ``**``) is rejected with the reason, so nothing is ever
``eval``-ed. Evaluation walks the tree with :class:`decimal.Decimal`; a division by zero
raises :class:`DivisionByZero` naming the zero divisor so the caller can report it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext

FUNCTIONS = ("sum", "mean")
PRECISION = 40  # significant digits of intermediate results


class FormulaError(ValueError):
    """The formula text is not valid in the expression language."""


class DivisionByZero(ArithmeticError):
    """A divisor evaluated to zero; `variables` are the names in that divisor."""

    def __init__(self, variables: tuple[str, ...]) -> None:
        super().__init__(f"division by zero ({', '.join(variables) or 'constant'})")
        self.variables = variables


@dataclass(frozen=True)
class Formula:
    """A parsed, checked formula."""

    text: str
    tree: ast.Expression
    variables: tuple[str, ...]

    def evaluate(self, values: Mapping[str, Decimal]) -> Decimal:
        """The value with exact decimal arithmetic (28+ significant digits)."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return _eval(self.tree.body, values)


def parse(text: str) -> Formula:
    """Parses and checks `text`; raises FormulaError with the reason."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"cannot parse formula {text!r}: {exc.msg}") from None
    names: list[str] = []
    _check(tree.body, names)
    return Formula(text=text, tree=tree, variables=tuple(dict.fromkeys(names)))


def _check(node: ast.AST, names: list[str]) -> None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check(node.operand, names)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        pass
    elif isinstance(node, ast.Name):
        names.append(node.id)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and node.args
        and not node.keywords
    ):
        for arg in node.args:
            _check(arg, names)
    else:
        raise FormulaError(f"not allowed in a formula: {ast.unparse(node)!r}")


def _eval(node: ast.AST, values: Mapping[str, Decimal]) -> Decimal:
    if isinstance(node, ast.BinOp):
        left = _eval(node.left, values)
        right = _eval(node.right, values)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if right == 0:
            raise DivisionByZero(_names(node.right))
        return left / right
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, values)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value))
    if isinstance(node, ast.Name):
        return values[node.id]
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    args = [_eval(arg, values) for arg in node.args]
    total = sum(args, Decimal(0))
    return total if node.func.id == "sum" else total / len(args)


def _names(node: ast.AST) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id not in FUNCTIONS))
