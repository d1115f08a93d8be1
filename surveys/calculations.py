"""Calculations (XLSForm `calculate`): a small XPath subset, parsed by hand and evaluated without `eval`.

A survey's `calculations` work values out from answers, for skip logic (``bmi >= 30``) and for text shown
to the patient (``Your BMI is ${bmi}``). They are written as XLSForm writes them, so an imported form keeps
its own text and exports it unchanged::

    expr     := or_expr
    or_expr  := and_expr ("or" and_expr)*
    and_expr := equality ("and" equality)*
    equality := relation (("=" | "!=") relation)*
    relation := sum (("<" | "<=" | ">" | ">=") sum)*
    sum      := product (("+" | "-") product)*
    product  := unary (("*" | "div" | "mod") unary)*
    unary    := "-" unary | primary
    primary  := NUMBER | STRING | ${name} | "(" expr ")" | FUNCTION "(" [expr ("," expr)*] ")"

Functions: ``if``, ``concat``, ``coalesce``, ``round``, ``int``, ``number``, ``string``, ``boolean``,
``string-length``, ``count-selected``, ``selected``, ``not``, ``true``, ``false``, ``abs``, ``pow``, ``min``,
``max`` and ``jr:choice-name(${q}, '${q}')`` (the label of q's answer, in the patient's language).

Values follow XPath 1.0: text, numbers (an empty or non-numeric text is NaN) and booleans, converted as
XPath converts them; comparing with a number compares numbers. An unanswered question is ``''``; a
multiple-choice answer is its codes separated by spaces, as in ODK. A result is offered to skip logic and
text as a number (a whole number as an int), as text, or as 'true'/'false'; NaN and ``''`` mean no value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from surveys.skip_logic import Cursor, SkipLogicError, Token

__all__ = [
    "FUNCTIONS",
    "CalculationError",
    "Calculator",
    "parse_calculation",
    "references",
]

MAX_LENGTH = 1000
MAX_DEPTH = 32
#: Function name -> (least, most) arguments (None: any number).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "if": (3, 3), "concat": (1, None), "coalesce": (2, 2), "round": (1, 2), "int": (1, 1), "number": (1, 1),
    "string": (1, 1), "boolean": (1, 1), "string-length": (1, 1), "count-selected": (1, 1), "selected": (2, 2),
    "not": (1, 1), "true": (0, 0), "false": (0, 0), "abs": (1, 1), "pow": (2, 2), "min": (1, None),
    "max": (1, None), "jr:choice-name": (2, 2),
}  # fmt: skip

Value = str | float | bool


class CalculationError(SkipLogicError):
    """A calculation that cannot be read; `position` (0-based) is where, when known."""


# ---------------------------------------------------------------------------------------------------------
# Syntax
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    """A number or a text written in the calculation."""

    value: float | str


@dataclass(frozen=True, slots=True)
class Ref:
    """${name}: an answer or another calculation's result."""

    name: str


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Const | Ref | Neg | Binary | Call

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ref>\$\{\s*(?P<refname>[A-Za-z_][A-Za-z0-9_.-]*)\s*\})
    | (?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<name>[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?)
    | (?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,)
    )""",
    re.X,
)
_WORD_OPERATORS = frozenset({"and", "or", "div", "mod"})


def _tokens(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise CalculationError(f"the calculation is longer than {MAX_LENGTH} characters")
    out: list[Token] = []
    pos = 0
    while text[pos:].strip():
        m = _TOKEN.match(text, pos)
        if not m:
            start = len(text) - len(text[pos:].lstrip())
            char = text[start]
            if char in "'\"":
                raise CalculationError(f"the text starting here has no closing {char}", start)
            if char == "$":
                raise CalculationError("a reference must look like ${question_name}", start)
            raise CalculationError(f"unexpected character {char!r}", start)
        kind = "ref" if m.group("ref") else m.lastgroup or ""
        start, raw = m.start(kind), m.group(kind)
        if kind == "ref":
            out.append(Token("ref", raw, m.group("refname"), start))
        elif kind == "number":
            out.append(Token("number", raw, float(raw), start))
        elif kind == "string":
            out.append(Token("string", raw, raw[1:-1], start))
        elif kind == "name" and raw in _WORD_OPERATORS:
            out.append(Token("op", raw, raw, start))
        else:
            out.append(Token(kind, raw, raw, start))
        pos = m.end()
    out.append(Token("end", "", None, len(text)))
    return out


class _Parser(Cursor):
    what = "calculation"
    error = CalculationError
    _LEVELS: tuple[tuple[str, ...], ...] = (("or",), ("and",), ("=", "!="), ("<", "<=", ">", ">="), ("+", "-"),
                                             ("*", "div", "mod"))  # fmt: skip

    def __init__(self, text: str) -> None:
        super().__init__(_tokens(text))

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def expect_op(self, op: str, what: str) -> None:
        if not self.is_op(op):
            raise CalculationError(f"expected {what}, found {self._describe(self.tok)}", self.tok.pos)
        self.take()

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise CalculationError("the calculation is empty", 0)
        node = self.binary(0)
        if self.tok.kind != "end":
            raise CalculationError(f"unexpected {self._describe(self.tok)}", self.tok.pos)
        return node

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.is_op(*self._LEVELS[level]):
            op = self.take().text
            node = Binary(op, node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        if self.is_op("-"):
            tok = self.take()
            self._enter(tok)
            operand = self.unary()
            self.depth -= 1
            return Neg(operand)
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind in ("number", "string"):
            self.take()
            return Const(tok.value)
        if tok.kind == "ref":
            self.take()
            return Ref(tok.value)
        if self.is_op("("):
            self.take()
            self._enter(tok)
            inner = self.binary(0)
            self.depth -= 1
            self.expect_op(")", "')'")
            return inner
        if tok.kind == "name":
            return self.call()
        raise CalculationError(f"expected a number, text, ${{question}} or a function, found {self._describe(tok)}",
                               tok.pos)

    def call(self) -> Call:
        tok = self.take()
        name = tok.text
        if not self.is_op("("):
            raise CalculationError(
                f"'{name}' is not something a calculation can read: refer to a question as ${{{name}}}", tok.pos
            )
        if name not in FUNCTIONS:
            raise CalculationError(
                f"the function {name}() is not supported (supported: {', '.join(f'{f}()' for f in FUNCTIONS)})",
                tok.pos,
            )
        self.take()
        self._enter(tok)
        args: list[Node] = []
        if not self.is_op(")"):
            args.append(self.binary(0))
            while self.is_op(","):
                self.take()
                args.append(self.binary(0))
        self.depth -= 1
        self.expect_op(")", "')' or ','")
        least, most = FUNCTIONS[name]
        if len(args) < least or (most is not None and len(args) > most):
            wanted = str(least) if least == most else f"at least {least}" if most is None else f"{least} to {most}"
            raise CalculationError(f"{name}() takes {wanted} argument{'s' if wanted != '1' else ''}", tok.pos)
        if name == "jr:choice-name":
            _choice_name_target(args, tok.pos)
        return Call(name, tuple(args))


def _choice_name_target(args: list[Node], pos: int) -> str:
    """jr:choice-name(${q}, '${q}'): the second argument names the question whose answers' labels are used."""
    target = args[1]
    m = (re.fullmatch(r"\s*\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\s*", target.value)
         if isinstance(target, Const) and isinstance(target.value, str) else None)
    if m is None:
        raise CalculationError("jr:choice-name() needs the question in quotes as its second argument: "
                               "jr:choice-name(${q}, '${q}')", pos)
    return m.group(1)


def parse_calculation(text: str) -> Node:
    """The calculation's syntax tree; CalculationError naming the place when it is outside the subset."""
    return _Parser(text).parse()


def references(node: Node) -> set[str]:
    """The names a calculation reads (questions or other calculations)."""
    if isinstance(node, Ref):
        return {node.name}
    if isinstance(node, Neg):
        return references(node.operand)
    if isinstance(node, Binary):
        return references(node.left) | references(node.right)
    if isinstance(node, Call):
        found = set().union(*(references(a) for a in node.args)) if node.args else set()
        if node.name == "jr:choice-name":
            found.add(_choice_name_target(list(node.args), 0))
        return found
    return set()


# ---------------------------------------------------------------------------------------------------------
# XPath values
# ---------------------------------------------------------------------------------------------------------

_XPATH_NUMBER = re.compile(r"^\s*-?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$")


def _number(value: Value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    return float(value) if _XPATH_NUMBER.match(value) else math.nan


def _string(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    return value


def _boolean(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return value != ""


def _compare(op: str, left: Value, right: Value) -> bool:
    if op in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            same = _boolean(left) == _boolean(right)
        elif isinstance(left, float) or isinstance(right, float):
            same = _number(left) == _number(right)
        else:
            same = left == right
        return same if op == "=" else not same
    a, b = _number(left), _number(right)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _arithmetic(op: str, left: Value, right: Value) -> float:
    a, b = _number(left), _number(right)
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:  # XPath: x div 0 is an infinity (NaN for 0 div 0); x mod 0 is NaN
            return math.nan if op == "mod" or a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)
        return a / b if op == "div" else math.fmod(a, b)
    except OverflowError:
        return math.nan


def _round(value: float, places: float = 0.0) -> float:
    if math.isnan(value) or math.isinf(value) or math.isnan(places):
        return value
    try:
        exponent = Decimal(1).scaleb(-int(places))
        return float(Decimal(repr(value)).quantize(exponent, rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError, OverflowError):
        return math.nan


def answer_value(value: Any) -> Value:
    """A stored answer as XPath sees it: '' when unanswered, codes joined by spaces, numbers as floats."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if isinstance(value, str):
        return value
    return ""  # a rating grid's answers: not readable by a calculation


def result_value(value: Value) -> int | float | str | None:
    """A calculation's result as skip logic and text use it (None: no value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    return value or None


# ---------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------

ChoiceLabel = Callable[[str, str], str]  # (question id, code) -> label in the reader's language


def evaluate(node: Node, read: Callable[[str], Value], choice_label: ChoiceLabel) -> Value:
    """The XPath value of a parsed calculation; `read(name)` gives an answer's or another calculation's."""
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Ref):
        return read(node.name)
    if isinstance(node, Neg):
        return -_number(evaluate(node.operand, read, choice_label))
    if isinstance(node, Binary):
        if node.op in ("and", "or"):
            left = _boolean(evaluate(node.left, read, choice_label))
            if node.op == "and" and not left:
                return False
            if node.op == "or" and left:
                return True
            return _boolean(evaluate(node.right, read, choice_label))
        left_value = evaluate(node.left, read, choice_label)
        right_value = evaluate(node.right, read, choice_label)
        if node.op in ("=", "!=", "<", "<=", ">", ">="):
            return _compare(node.op, left_value, right_value)
        return _arithmetic(node.op, left_value, right_value)
    return _call(node, read, choice_label)


def _call(node: Call, read: Callable[[str], Value], choice_label: ChoiceLabel) -> Value:
    name = node.name
    if name == "if":
        chosen = node.args[1] if _boolean(evaluate(node.args[0], read, choice_label)) else node.args[2]
        return evaluate(chosen, read, choice_label)
    if name == "true":
        return True
    if name == "false":
        return False
    if name == "jr:choice-name":
        code = _string(evaluate(node.args[0], read, choice_label))
        return choice_label(_choice_name_target(list(node.args), 0), code) if code else ""
    args = [evaluate(a, read, choice_label) for a in node.args]
    if name == "concat":
        return "".join(_string(a) for a in args)
    if name == "coalesce":
        return args[0] if _string(args[0]) != "" else args[1]
    if name == "number":
        return _number(args[0])
    if name == "string":
        return _string(args[0])
    if name == "boolean":
        return _boolean(args[0])
    if name == "not":
        return not _boolean(args[0])
    if name == "string-length":
        return float(len(_string(args[0])))
    if name == "count-selected":
        return float(len(_string(args[0]).split()))
    if name == "selected":
        return _string(args[1]).strip() in _string(args[0]).split()
    if name == "round":
        return _round(_number(args[0]), _number(args[1]) if len(args) > 1 else 0.0)
    if name == "int":
        value = _number(args[0])
        return float(math.trunc(value)) if math.isfinite(value) else value
    if name == "abs":
        return abs(_number(args[0]))
    if name == "pow":
        try:
            return float(_number(args[0]) ** _number(args[1]))
        except (OverflowError, ZeroDivisionError):
            return math.nan
        except TypeError:  # a negative number to a fractional power is complex
            return math.nan
    numbers = [_number(a) for a in args]  # min, max
    if any(math.isnan(n) for n in numbers):
        return math.nan
    return min(numbers) if name == "min" else max(numbers)


class Calculator:
    """A survey's calculations, parsed once; `values(answers, choice_label)` offers their results lazily.

    `calculations` is (id, text) in the survey's order; the definition's validation has made sure each
    parses and that none depends on itself, so evaluation never loops.
    """

    __slots__ = ("_nodes", "_inputs")

    def __init__(self, calculations: list[tuple[str, str]]) -> None:
        self._nodes = {cid: parse_calculation(text) for cid, text in calculations}
        self._inputs: dict[str, frozenset[str]] = {}

    def inputs(self, name: str) -> frozenset[str]:
        """The answers (question ids) a calculation reads, directly or through other calculations."""
        if name not in self._inputs:
            self._inputs[name] = frozenset()  # a guard against a cycle (refused by validation)
            found: set[str] = set()
            for ref in references(self._nodes[name]):
                found |= self.inputs(ref) if ref in self._nodes else {ref}
            self._inputs[name] = frozenset(found)
        return self._inputs[name]

    def __bool__(self) -> bool:
        return bool(self._nodes)

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def values(self, answers: Mapping[str, Any], choice_label: ChoiceLabel | None = None) -> WithCalculations:
        return WithCalculations(self._nodes, answers, choice_label or (lambda _q, code: code))


class WithCalculations(Mapping[str, Any]):
    """Answers plus the calculations' results, worked out when first asked for (once each)."""

    __slots__ = ("_nodes", "_answers", "_label", "_done")

    def __init__(self, nodes: dict[str, Node], answers: Mapping[str, Any], choice_label: ChoiceLabel) -> None:
        self._nodes = nodes
        self._answers = answers
        self._label = choice_label
        self._done: dict[str, Value] = {}

    def _xpath(self, name: str) -> Value:
        if name in self._nodes:
            if name not in self._done:
                self._done[name] = ""  # a guard: a cycle (refused by validation) reads as empty
                self._done[name] = evaluate(self._nodes[name], self._xpath, self._label)
            return self._done[name]
        return answer_value(self._answers.get(name))

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        if name in self._nodes:
            found = result_value(self._xpath(name))
            return default if found is None else found
        return self._answers.get(name, default)

    def __getitem__(self, name: str) -> Any:
        found = self.get(name, _MISSING)
        if found is _MISSING:
            raise KeyError(name)
        return found

    def __iter__(self) -> Any:
        yield from self._answers
        yield from (n for n in self._nodes if n not in self._answers and self.get(n) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


_MISSING = object()
