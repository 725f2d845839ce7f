"""Values with ``${{ ... }}`` in them, and evaluating expressions against a run's environment.

A *template* is any profile string: ``"${{ ::stirring:target_rpm + 10 }}"`` is one expression
and evaluates to its value (a number here); ``"OD is ${{ ::od_reading:od1.od }}"`` mixes text
and expressions and evaluates to text. Conditions (``if``, ``while``, ``wait_until``) may also
be a bare expression without the braces, or a YAML boolean.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pioreactor.plugins_core.profiles.expressions import (
    Binary,
    Boolean,
    Call,
    ExpressionSyntaxError,
    LiveValue,
    Name,
    Node,
    Number,
    Unary,
    parse,
)

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
#: upstream's log placeholders, kept for old profiles: "{unit} is at ..." (no other braces touched)
LEGACY_PLACEHOLDERS = re.compile(r"\{(unit|job|experiment)\}")


class ExpressionError(ValueError):
    """An expression that parsed but cannot be evaluated now (a missing value, a type clash)."""


@dataclass(frozen=True)
class Part:
    """One ``${{ ... }}`` of a template: its text, where it starts in the template, its tree."""

    source: str
    offset: int
    tree: Node


@dataclass(frozen=True)
class Template:
    text: str
    literals: tuple[str, ...]  # len(parts) + 1 pieces of text around the expressions
    parts: tuple[Part, ...]

    @property
    def is_expression(self) -> bool:
        """Only one ``${{ }}`` and nothing else: evaluates to the expression's own value."""
        return len(self.parts) == 1 and not "".join(self.literals).strip()

    @property
    def has_expressions(self) -> bool:
        return bool(self.parts)


def compile_template(text: str) -> Template:
    """Parse every ``${{ ... }}`` in ``text``; ExpressionSyntaxError offsets count from the template's start."""
    literals: list[str] = []
    parts: list[Part] = []
    position = 0
    for match in EXPRESSION.finditer(text):
        literals.append(text[position : match.start()])
        inner = match.group(1)
        start = match.start(1)
        try:
            tree = parse(inner)
        except ExpressionSyntaxError as err:
            err.offset = start + max(0, err.offset)
            raise
        parts.append(Part(inner.strip(), start, tree))
        position = match.end()
    literals.append(text[position:])
    if "${{" in literals[-1]:
        raise ExpressionSyntaxError("an expression opened with ${{ is never closed", text.index("${{", position), "end it with }}")
    return Template(text, tuple(literals), tuple(parts))


def compile_condition(value: bool | str) -> bool | Template:
    """A condition: a boolean, ``${{ expr }}``, or a bare expression (upstream accepts all three)."""
    if isinstance(value, bool):
        return value
    if "${{" in value:
        template = compile_template(value)
        if not template.is_expression:
            raise ExpressionSyntaxError(
                "a condition is one expression: text around ${{ ... }} is not allowed", 0, "remove the text outside ${{ }}"
            )
        return template
    tree = parse(value)
    return Template(value, ("", ""), (Part(value.strip(), 0, tree),))


# -- the environment -----------------------------------------------------------------------
@dataclass
class Environment:
    """What an expression can see when it is evaluated for one action."""

    unit: str
    job: str
    experiment: str
    inputs: dict[str, Any] = field(default_factory=dict)
    hours_elapsed: Callable[[], float] = lambda: 0.0
    #: reads ``pioreactor/<unit>/<experiment>/<job>/<setting>``; raises ExpressionError when absent
    read_live: Callable[[str, str, str], Any] | None = None
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def builtins(self) -> dict[str, Callable[..., Any]]:
        return {
            "unit": lambda: self.unit,
            "job_name": lambda: self.job,
            "experiment": lambda: self.experiment,
            "hours_elapsed": self.hours_elapsed,
            "random": random.random,
        }


BUILTIN_FUNCTIONS = ("unit", "job_name", "experiment", "hours_elapsed", "random")


def convert_text(value: str) -> Any:
    """A text value as upstream reads it: a number if it is one, true/false as booleans, else text."""
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return number
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return value


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float)):
        return f"the number {value:g}"
    return f"the text {value!r}"


def follow_keys(value: Any, keys: tuple[str, ...], what: str) -> Any:
    for key in keys:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            known = ", ".join(map(str, value)) if isinstance(value, dict) else "none: it is not a mapping"
            raise ExpressionError(f"{what} has no key {key!r} (its keys: {known})")
    if value is None:
        raise ExpressionError(f"{what} is empty")
    if isinstance(value, str):
        return convert_text(value)
    return value


def evaluate(node: Node, env: Environment) -> Any:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Boolean):
        return node.value
    if isinstance(node, Name):
        if node.name in env.inputs:
            return env.inputs[node.name]
        if node.name == "hours_elapsed":
            return env.hours_elapsed()
        return node.name
    if isinstance(node, LiveValue):
        unit = node.unit or env.unit
        if env.read_live is None:
            raise ExpressionError(f"{node.text()} is a live value, read only while the profile runs")
        value = env.read_live(unit, node.job, node.setting)
        return follow_keys(value, node.keys, f"{unit}:{node.job}:{node.setting}")
    if isinstance(node, Call):
        function = env.builtins().get(node.function) or env.functions.get(node.function)
        if function is None:
            raise ExpressionError(f"there is no function {node.function}()")
        args = [evaluate(arg, env) for arg in node.args]
        if node.function in BUILTIN_FUNCTIONS and args:
            raise ExpressionError(f"{node.function}() takes no arguments")
        try:
            return function(*args)
        except ExpressionError:
            raise
        except Exception as err:
            raise ExpressionError(f"{node.function}() failed: {type(err).__name__}: {err}") from None
    if isinstance(node, Unary):
        operand = evaluate(node.operand, env)
        if node.op == "not":
            return not operand
        if isinstance(operand, str):
            raise ExpressionError(f"cannot apply {node.op} to {_describe(operand)}")
        return -operand if node.op == "-" else +operand
    if isinstance(node, Binary):
        return _binary(node, env)
    raise ExpressionError(f"cannot evaluate {node!r}")


def _binary(node: Binary, env: Environment) -> Any:
    left = evaluate(node.left, env)
    if node.op == "and":
        return left and evaluate(node.right, env)
    if node.op == "or":
        return left or evaluate(node.right, env)
    right = evaluate(node.right, env)
    try:
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        if node.op == "/":
            return left / right
        if node.op == "**":
            result = left**right
            if isinstance(result, complex):
                raise ExpressionError(f"{left:g} ** {right:g} is not a real number")
            return result
        if node.op == "==":
            return left == right
        if node.op == "!=":
            return left != right
        if node.op == "<":
            return left < right
        if node.op == "<=":
            return left <= right
        if node.op == ">":
            return left > right
        if node.op == ">=":
            return left >= right
    except ZeroDivisionError:
        raise ExpressionError("division by zero") from None
    except OverflowError:
        raise ExpressionError(f"{node.op} overflowed") from None
    except TypeError:
        raise ExpressionError(f"cannot apply {node.op} to {_describe(left)} and {_describe(right)}") from None
    raise ExpressionError(f"unknown operator {node.op}")


def evaluate_template(template: Template, env: Environment) -> Any:
    """The value of a one-expression template, else the text with each expression's value in it."""
    if template.is_expression:
        return evaluate(template.parts[0].tree, env)
    pieces = [_legacy(template.literals[0], env)]
    for part, literal in zip(template.parts, template.literals[1:], strict=True):
        pieces.append(format_value(evaluate(part.tree, env)))
        pieces.append(_legacy(literal, env))
    return "".join(pieces)


def _legacy(text: str, env: Environment) -> str:
    names = {"unit": env.unit, "job": env.job, "experiment": env.experiment}
    return LEGACY_PLACEHOLDERS.sub(lambda m: names[m.group(1)], text)


def format_value(value: Any) -> str:
    """A value as text: whole numbers without ``.0`` (so ``--n-samples 3`` parses as an integer)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)
