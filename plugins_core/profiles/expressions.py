"""The ``${{ ... }}`` expression language of profiles: a sly lexer and LALR parser giving an AST.

Grammar, from the loosest binding to the tightest::

    or  <  and  <  not  <  comparisons (< <= == != >= >, not chained)
        <  + -  <  * /  <  unary + -  <  **  (right-associative)

Atoms: numbers, ``true``/``false`` (any case), parentheses, bare names (an input, else the name
as text, so ``::stirring:$state == ready`` compares with the text ``ready``), function calls
``name(args)``, and live values ``unit:job:setting[.key...]``, ``::job:setting`` (this unit) or
``unit():job:setting``.
"""

# sly's grammar DSL: token names and the `_` decorator are injected into the class bodies
# ruff: noqa: F811, F821
# mypy: disable-error-code="name-defined, no-redef, misc, index, attr-defined"

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sly import Lexer, Parser


class ExpressionSyntaxError(ValueError):
    """An expression that does not parse; ``offset`` is where, within the expression text."""

    def __init__(self, message: str, offset: int, hint: str = "") -> None:
        super().__init__(message)
        self.offset = offset
        self.hint = hint


# -- the AST -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    offset: int


@dataclass(frozen=True)
class Number(Node):
    value: float


@dataclass(frozen=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class LiveValue(Node):
    """``unit:job:setting.key.key``; ``unit`` is None for ``::job:setting`` and ``unit():...``."""

    unit: str | None
    job: str
    setting: str
    keys: tuple[str, ...]

    def text(self) -> str:
        path = ".".join((self.setting, *self.keys))
        return f"{self.unit or ''}:{self.job}:{path}" if self.unit else f"::{self.job}:{path}"


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-", "+", "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / ** < <= == != >= > and or
    left: Node
    right: Node


def walk(node: Node) -> list[Node]:
    """Every node of the tree, parents first."""
    found = [node]
    if isinstance(node, Call):
        for arg in node.args:
            found += walk(arg)
    elif isinstance(node, Unary):
        found += walk(node.operand)
    elif isinstance(node, Binary):
        found += walk(node.left) + walk(node.right)
    return found


# -- lexer ---------------------------------------------------------------------------------
KEYWORDS = {"and": "AND", "or": "OR", "not": "NOT", "true": "TRUE", "false": "FALSE"}


class ExpressionLexer(Lexer):
    tokens = {
        LIVE, NUMBER, NAME, AND, OR, NOT, TRUE, FALSE,
        POW, LE, GE, EQ, NE, LT, GT, PLUS, MINUS, TIMES, DIVIDE, LPAREN, RPAREN, COMMA,
    }  # fmt: skip
    ignore = " \t\r\n"

    # unit names may hold hyphens (hostnames); settings may start with $ ($state)
    LIVE = r"(?:[A-Za-z_$][A-Za-z0-9_$-]*(?:\(\))?:|::)[A-Za-z_$][A-Za-z0-9_$]*:[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z0-9_$]+)*"
    NUMBER = r"(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?"

    @_(r"[A-Za-z_$][A-Za-z0-9_$]*")
    def NAME(self, t):
        keyword = KEYWORDS.get(t.value.lower())
        if keyword is not None:
            t.type = keyword
        return t

    POW = r"\*\*"
    LE = r"<="
    GE = r">="
    EQ = r"=="
    NE = r"!="
    LT = r"<"
    GT = r">"
    PLUS = r"\+"
    MINUS = r"-"
    TIMES = r"\*"
    DIVIDE = r"/"
    LPAREN = r"\("
    RPAREN = r"\)"
    COMMA = r","

    def error(self, t):
        char = t.value[0]
        hints = {
            "=": "compare with ==",
            '"': "expressions have no quoted text: a bare word is text already (ready, not \"ready\")",
            "'": "expressions have no quoted text: a bare word is text already (ready, not 'ready')",
            "!": "write not (a == b) or a != b",
            "&": "write and",
            "|": "write or",
            "%": "there is no % operator",
            "{": "expressions sit inside ${{ ... }} once; no braces inside",
            "}": "expressions sit inside ${{ ... }} once; no braces inside",
        }
        raise ExpressionSyntaxError(f"unexpected character {char!r}", self.index, hints.get(char, ""))


# -- parser --------------------------------------------------------------------------------
class ExpressionParser(Parser):
    tokens = ExpressionLexer.tokens
    precedence = (
        ("left", OR),
        ("left", AND),
        ("right", NOT),
        ("nonassoc", LT, LE, EQ, NE, GE, GT),
        ("left", PLUS, MINUS),
        ("left", TIMES, DIVIDE),
        ("right", UMINUS),
        ("right", POW),
    )

    @_("expr OR expr", "expr AND expr")
    def expr(self, p):
        return Binary(p.expr0.offset, p[1].lower(), p.expr0, p.expr1)

    @_(
        "expr LT expr", "expr LE expr", "expr EQ expr", "expr NE expr", "expr GE expr", "expr GT expr",
        "expr PLUS expr", "expr MINUS expr", "expr TIMES expr", "expr DIVIDE expr", "expr POW expr",
    )  # fmt: skip
    def expr(self, p):
        return Binary(p.expr0.offset, p[1], p.expr0, p.expr1)

    @_("NOT expr")
    def expr(self, p):
        return Unary(p.index, "not", p.expr)

    @_("MINUS expr %prec UMINUS", "PLUS expr %prec UMINUS")
    def expr(self, p):
        return Unary(p.index, p[0], p.expr)

    @_("LPAREN expr RPAREN")
    def expr(self, p):
        return p.expr

    @_("NUMBER")
    def expr(self, p):
        return Number(p.index, float(p.NUMBER))

    @_("TRUE", "FALSE")
    def expr(self, p):
        return Boolean(p.index, p[0].lower() == "true")

    @_("NAME")
    def expr(self, p):
        return Name(p.index, p.NAME)

    @_("LIVE")
    def expr(self, p):
        text = p.LIVE[1:] if p.LIVE.startswith("::") else p.LIVE  # "::job:x" is "<this unit>:job:x"
        unit, job, path = text.split(":", 2)
        setting, *keys = path.split(".")
        return LiveValue(p.index, None if unit in ("", "unit()") else unit, job, setting, tuple(keys))

    @_("NAME LPAREN RPAREN")
    def expr(self, p):
        return Call(p.index, p.NAME, ())

    @_("NAME LPAREN arguments RPAREN")
    def expr(self, p):
        return Call(p.index, p.NAME, tuple(p.arguments))

    @_("expr")
    def arguments(self, p):
        return [p.expr]

    @_("arguments COMMA expr")
    def arguments(self, p):
        return [*p.arguments, p.expr]

    def error(self, p):
        if p is None:
            raise ExpressionSyntaxError("the expression ends too early", -1, "is a parenthesis or an operand missing?")
        text = p.value
        hint = ""
        if p.type == "RPAREN":
            hint = "a closing parenthesis without its opening one"
        elif p.type in ("LT", "LE", "EQ", "NE", "GE", "GT"):
            hint = "a comparison needs a value on each side, and comparisons do not chain: write (a < b) and (b < c)"
        raise ExpressionSyntaxError(f"unexpected {text!r}", p.index, hint)


_lexer: ExpressionLexer | None = None
_parser: ExpressionParser | None = None


def parse(text: str) -> Node:
    """The AST of one expression (without its ``${{ }}``); ExpressionSyntaxError if it does not parse."""
    global _lexer, _parser
    if _lexer is None or _parser is None:
        _lexer, _parser = ExpressionLexer(), ExpressionParser()
    if not text.strip():
        raise ExpressionSyntaxError("the expression is empty", 0, "write something between ${{ and }}")
    try:
        tree: Any = _parser.parse(_lexer.tokenize(text))
    except ExpressionSyntaxError as err:
        if err.offset < 0:
            err.offset = len(text.rstrip())
        raise
    if tree is None:  # sly returns None for an empty token stream
        raise ExpressionSyntaxError("the expression is empty", 0)
    node: Node = tree
    check_depth(node)
    return node


#: how deeply operators may nest: evaluation and checks walk the tree recursively
MAX_DEPTH = 100


def _children(node: Node) -> list[Node]:
    found: list[Node] = []
    for value in vars(node).values():
        if isinstance(value, Node):
            found.append(value)
        elif isinstance(value, list | tuple):
            found.extend(item for item in value if isinstance(item, Node))
    return found


def check_depth(tree: Node) -> None:
    """ExpressionSyntaxError if operators nest deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionSyntaxError(
                f"the expression nests more than {MAX_DEPTH} operators deep",
                node.offset,
                "split it into smaller expressions (e.g. with inputs)",
            )
        stack.extend((child, depth + 1) for child in _children(node))
