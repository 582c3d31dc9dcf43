"""A small, safe expression language for KPI formulas.

A KPI formula is written as in the seed, over the seed's letters: ``((A-B)/B)*100``,
``(A+B+C)/3*100``, ``A/B``. The catalog maps each letter to a data point id.

The text is parsed once, at catalog load, with :func:`ast.parse` in ``eval`` mode and
checked against a whitelist: numbers, names, ``+ - * /``, unary minus, parentheses and
the functions ``sum(...)`` and ``mean(...)``. Anything else (attributes, calls to other
names, comparisons, subscripts, ``**``) is rejected with the reason, so nothing is ever
``eval``-ed. Evaluation runs the checked tree, turned once into nested Python functions
(an export computes 100,000 results: walking the tree node by node took half their time),
with :class:`decimal.Decimal`; a division by zero raises :class:`DivisionByZero` naming the
zero divisor so the caller can report it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
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
        run = _COMPILED.get(self.text)
        if run is None:
            run = _COMPILED[self.text] = _compile(self.tree.body)
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return run(values)


Evaluator = Callable[[Mapping[str, Decimal]], Decimal]
# per process and formula text (a function cannot travel to the worker with the catalog)
_COMPILED: dict[str, Evaluator] = {}


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


def _compile(node: ast.AST) -> Evaluator:
    """The checked tree as a function of the values: each node's kind is decided once here,
    not at every evaluation. Operands are evaluated left then right, as written."""
    if isinstance(node, ast.BinOp):
        left, right = _compile(node.left), _compile(node.right)
        if isinstance(node.op, ast.Add):
            return lambda v: left(v) + right(v)
        if isinstance(node.op, ast.Sub):
            return lambda v: left(v) - right(v)
        if isinstance(node.op, ast.Mult):
            return lambda v: left(v) * right(v)
        divisor = _names(node.right)

        def divide(v: Mapping[str, Decimal]) -> Decimal:
            a, b = left(v), right(v)
            if b == 0:
                raise DivisionByZero(divisor)
            return a / b

        return divide
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand)
        return (lambda v: -operand(v)) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Constant):
        constant = Decimal(str(node.value))
        return lambda _v: constant
    if isinstance(node, ast.Name):
        name = node.id
        return lambda v: v[name]
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    args = [_compile(arg) for arg in node.args]
    mean = node.func.id == "mean"

    def total(v: Mapping[str, Decimal]) -> Decimal:
        summed = sum((arg(v) for arg in args), Decimal(0))
        return summed / len(args) if mean else summed

    return total


def _names(node: ast.AST) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id not in FUNCTIONS))
