"""Skip logic ("show if"): a small, safe expression language, and its mapping to XLSForm `relevant`.

A question or section may carry `show_if`, an expression over answers to *earlier* questions. It is
never given to `eval`: a hand-written tokenizer and recursive-descent parser turn it into a tiny AST
(`Compare`, `Selected`, `Answered`, `Not`, `And`, `Or`), which `compile_expr` turns into a Python
closure for the submission hot path. The language (our "prg" dialect) is::

    expr       := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | primary
    primary    := "(" expr ")" | comparison | selected | answered
    comparison := NAME OP LITERAL          OP is one of  =  !=  <  <=  >  >=
    selected   := "selected" "(" NAME "," STRING ")"
    answered   := "answered" "(" NAME ")"
    LITERAL    := STRING | NUMBER          'text' or "text" (no escapes), 12, -3, 4.5

for example ``visited = 'yes' and (rating <= 3 or selected(problems, 'phone'))``.

**Unanswered questions.** A comparison or `selected` over a question with no answer is *false*, whatever
the operator: ``q != 'a'`` means "q was answered, and not with 'a'". Use ``answered(q)`` to test for an
answer and ``not answered(q)`` for its absence; ``not (q = 'a')`` is true when q is unanswered. A question
hidden by its own skip logic has no answer, so anything that depends on it behaves the same way.

**XLSForm.** The XLSForm dialect (`relevant` column) is the same subset written with XPath spelling:
``${q} = 'a'``, ``selected(${q}, 'a')``, ``not(...)``, ``${q} != ''`` for answered. XPath treats an empty
answer as ``''``, so its bare ``${q} != 'a'`` is *true* when q is unanswered; `to_xpath` therefore writes
our ``q != 'a'`` as ``(${q} != '' and ${q} != 'a')`` and `from_xpath` reads that pattern back as
``q != 'a'`` while a bare ``${q} != 'a'`` becomes ``not (q = 'a')``. Both directions keep the meaning, and
``from_xpath(to_xpath(e)) == e`` for every normalised expression `e`.
"""

from __future__ import annotations

import operator
import re
from decimal import Decimal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "OPERATORS",
    "And",
    "Answered",
    "Compare",
    "Expr",
    "Not",
    "Or",
    "Selected",
    "SkipLogicError",
    "compile_expr",
    "evaluate",
    "format_expr",
    "from_xpath",
    "is_answered",
    "parse",
    "referenced_names",
    "references",
    "to_xpath",
]

OPERATORS: tuple[str, ...] = ("=", "!=", "<", "<=", ">", ">=")
MAX_LENGTH = 1000  # characters in one expression (the definition schema has the same bound)
MAX_DEPTH = 32  # nesting of parentheses and `not`

Dialect = Literal["prg", "xpath"]
Literal_ = str | int | float


class SkipLogicError(ValueError):
    """An expression that cannot be parsed. `position` is 0-based; the message says it 1-based."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.reason = message
        self.position = position
        where = f"at character {position + 1}: " if position is not None else ""
        super().__init__(where + message)


# ---------------------------------------------------------------------------------------------------------
# AST
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    """`name op value`: false when `name` is unanswered."""

    name: str
    op: str
    value: Literal_


@dataclass(frozen=True, slots=True)
class Selected:
    """`selected(name, 'code')`: the code is among a multiple-choice answer (or is a single-choice answer)."""

    name: str
    code: str


@dataclass(frozen=True, slots=True)
class Answered:
    """`answered(name)`: the question has an answer."""

    name: str


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]  # at least two, none of them an And once normalised


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]  # at least two, none of them an Or once normalised


@dataclass(frozen=True, slots=True)
class _Group:
    """Parentheses, kept only between parsing and normalising (the XLSForm reading needs to see them)."""

    inner: Expr


Expr = Compare | Selected | Answered | Not | And | Or


# ---------------------------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name, ref, string, number, op, lparen, rparen, comma, end
    text: str
    value: Any
    pos: int


_SPACE = re.compile(r"\s+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")  # question ids are XLSForm names: '.' and '-' allowed
_XPATH_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")  # XPath functions: string-length, count-selected
_REF = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?(?![A-Za-z0-9_.])")
_OPS = ("<=", ">=", "!=", "=", "<", ">")


def _tokens(text: str, dialect: Dialect) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise SkipLogicError(f"the expression is longer than {MAX_LENGTH} characters")
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
            continue
        if ch == "(":
            out.append(Token("lparen", ch, None, i))
            i += 1
        elif ch == ")":
            out.append(Token("rparen", ch, None, i))
            i += 1
        elif ch == ",":
            out.append(Token("comma", ch, None, i))
            i += 1
        elif ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise SkipLogicError(f"the text starting here has no closing {ch}", i)
            out.append(Token("string", text[i : end + 1], text[i + 1 : end], i))
            i = end + 1
        elif ch == "$":
            m = _REF.match(text, i)
            if dialect == "prg":
                raise SkipLogicError("write a question's name without ${ }: q = 'a', not ${q} = 'a'", i)
            if not m:
                raise SkipLogicError("a reference must look like ${question_name}", i)
            out.append(Token("ref", m.group(0), m.group(1), i))
            i = m.end()
        elif ch.isdigit() or (ch == "-" and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            if not m:
                raise SkipLogicError("this is not a number (write 12, -3 or 4.5)", i)
            raw = m.group(0)
            out.append(Token("number", raw, float(raw) if "." in raw else int(raw), i))
            i = m.end()
        elif ch.isalpha() or ch == "_":
            m = (_XPATH_NAME if dialect == "xpath" else _NAME).match(text, i)
            assert m is not None
            out.append(Token("name", m.group(0), m.group(0), i))
            i = m.end()
        elif text.startswith("==", i):
            raise SkipLogicError("write = for equals, not ==", i)
        else:
            for op in _OPS:
                if text.startswith(op, i):
                    out.append(Token("op", op, op, i))
                    i += len(op)
                    break
            else:
                raise SkipLogicError(f"unexpected character {ch!r}", i)
    out.append(Token("end", "", None, n))
    return out


# ---------------------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------------------

_KEYWORDS = frozenset({"and", "or", "not", "selected", "answered"})


class Cursor:
    """A recursive-descent parser's place in its tokens, and how deeply it has nested (shared with the
    calculations' parser, `surveys.calculations`, which names itself and its error type)."""

    what = "expression"
    error: type[SkipLogicError] = SkipLogicError

    def __init__(self, toks: list[Token]) -> None:
        self.toks = toks
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def take(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"expected {what}, found {self._describe(self.tok)}", self.tok.pos)
        return self.take()

    def _describe(self, tok: Token) -> str:
        return f"the end of the {self.what}" if tok.kind == "end" else repr(tok.text)

    def _enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the {self.what} nests more than {MAX_DEPTH} levels deep", tok.pos)


class _Parser(Cursor):
    def __init__(self, text: str, dialect: Dialect) -> None:
        super().__init__(_tokens(text, dialect))
        self.dialect = dialect

    def is_word(self, word: str) -> bool:
        return self.tok.kind == "name" and self.tok.text == word

    def parse(self) -> Expr | _Group:
        if self.tok.kind == "end":
            raise SkipLogicError("the expression is empty", 0)
        node = self.or_expr()
        if self.tok.kind != "end":
            tok = self.tok
            hint = " (join conditions with 'and' or 'or')" if tok.kind in ("name", "ref", "lparen") else ""
            raise SkipLogicError(f"unexpected {self._describe(tok)}{hint}", tok.pos)
        return node

    def or_expr(self) -> Any:
        return self._joined("or", self.and_expr, Or)

    def and_expr(self) -> Any:
        return self._joined("and", self.unary, And)

    def _joined(self, word: str, operand: Callable[[], Any], node: type[And] | type[Or]) -> Any:
        """operand (word operand)*: a lone operand as it is, several as one `node` over them all."""
        items = [operand()]
        while self.is_word(word):
            self.take()
            items.append(operand())
        return items[0] if len(items) == 1 else node(tuple(items))

    def unary(self) -> Any:
        if self.is_word("not"):
            tok = self.take()
            if self.dialect == "xpath" and self.tok.kind != "lparen":
                raise SkipLogicError("in XLSForm, write not(...) with parentheses", tok.pos)
            self._enter(tok)
            operand = self.unary()
            self.depth -= 1
            return Not(_strip_group(operand) if self.dialect == "xpath" else operand)
        return self.primary()

    def primary(self) -> Any:
        tok = self.tok
        if tok.kind == "lparen":
            self.take()
            self._enter(tok)
            inner = self.or_expr()
            self.depth -= 1
            self.expect("rparen", "')'")
            return _Group(inner)
        if tok.kind == "name" and tok.text == "selected":
            return self.selected()
        if tok.kind == "name" and tok.text == "answered" and self.dialect == "prg":
            return self.answered()
        name_tok = self.reference()
        op = self.tok
        if op.kind != "op":
            raise SkipLogicError(
                f"expected a comparison (= != < <= > >=) after {name_tok.text}, found {self._describe(op)}", op.pos
            )
        self.take()
        lit = self.tok
        if lit.kind not in ("string", "number"):
            if lit.kind == "op" and op.text + lit.text in OPERATORS:
                raise SkipLogicError(f"write {op.text}{lit.text} without a space, or check the operator", lit.pos)
            raise SkipLogicError(
                f"expected a value in quotes or a number after {op.text}, found {self._describe(lit)}", lit.pos
            )
        self.take()
        return Compare(name_tok.value, op.text, lit.value)

    def reference(self) -> Token:
        tok = self.tok
        if self.dialect == "xpath":
            if tok.kind == "ref":
                return self.take()
            if tok.kind == "name" and self.toks[self.i + 1].kind == "lparen":
                raise SkipLogicError(f"the function {tok.text}() is not supported", tok.pos)
            raise SkipLogicError(f"expected a reference like ${{question}}, found {self._describe(tok)}", tok.pos)
        if tok.kind == "name" and tok.text not in _KEYWORDS:
            if self.toks[self.i + 1].kind == "lparen":
                raise SkipLogicError(f"the function {tok.text}() is not supported", tok.pos)
            return self.take()
        if tok.kind == "name":
            raise SkipLogicError(f"{tok.text!r} is a keyword, not a question name", tok.pos)
        raise SkipLogicError(f"expected a question name, found {self._describe(tok)}", tok.pos)

    def selected(self) -> Selected:
        self.take()
        self.expect("lparen", "'(' after selected")
        name = self.reference()
        self.expect("comma", "',' between the question and the answer code")
        code = self.tok
        if code.kind == "number" and self.dialect == "xpath":
            self.take()
            value = code.text
        else:
            value = self.expect("string", "an answer code in quotes").value
        self.expect("rparen", "')'")
        return Selected(name.value, value)

    def answered(self) -> Answered:
        self.take()
        self.expect("lparen", "'(' after answered")
        name = self.reference()
        self.expect("rparen", "')'")
        return Answered(name.value)


def _strip_group(node: Any) -> Any:
    while isinstance(node, _Group):
        node = node.inner
    return node


def _normalise(node: Any, dialect: Dialect) -> Expr:
    """Drop parentheses, flatten nested and/or, and (XLSForm) read the XPath idioms for 'answered'."""
    node = _strip_group(node)
    if isinstance(node, Compare):
        if dialect == "xpath" and node.value == "":
            if node.op == "!=":
                return Answered(node.name)
            if node.op == "=":
                return Not(Answered(node.name))
            raise SkipLogicError(f"compare ${{{node.name}}} with '' only by = or !=")
        if dialect == "xpath" and node.op == "!=":
            return Not(Compare(node.name, "=", node.value))  # XPath: true when unanswered
        if dialect == "prg" and node.value == "":
            raise SkipLogicError(f"use answered({node.name}) or not answered({node.name}) instead of comparing with ''")
        return node
    if isinstance(node, Not):
        return Not(_normalise(node.operand, dialect))
    if isinstance(node, And):
        if dialect == "xpath" and len(node.operands) == 2:
            first, second = (_strip_group(o) for o in node.operands)
            # (${q} != '' and ${q} != 'a') is how to_xpath writes our q != 'a'.
            if (
                isinstance(first, Compare)
                and isinstance(second, Compare)
                and first.name == second.name
                and first.op == "!="
                and first.value == ""
                and second.op == "!="
                and second.value != ""
            ):
                return Compare(second.name, "!=", second.value)
        return And(tuple(_flatten(And, [_normalise(o, dialect) for o in node.operands])))
    if isinstance(node, Or):
        return Or(tuple(_flatten(Or, [_normalise(o, dialect) for o in node.operands])))
    return node  # Selected, Answered


def _flatten(kind: type, items: list[Expr]) -> Iterator[Expr]:
    for item in items:
        if isinstance(item, kind):
            yield from item.operands  # type: ignore[union-attr]
        else:
            yield item


def parse(text: str) -> Expr:
    """Parse a `show_if` expression (our dialect) into a normalised AST; SkipLogicError if malformed."""
    return _normalise(_Parser(text, "prg").parse(), "prg")


def from_xpath(text: str, rename: Callable[[str], str] | None = None) -> Expr:
    """Read an XLSForm `relevant` expression in the supported subset; SkipLogicError otherwise.

    `rename` maps each `${name}` to a question id (the importer lowercases XLSForm names).
    """
    node = _normalise(_Parser(text, "xpath").parse(), "xpath")
    return _rename(node, rename) if rename else node


def _rename(node: Expr, rename: Callable[[str], str]) -> Expr:
    if isinstance(node, Compare):
        return Compare(rename(node.name), node.op, node.value)
    if isinstance(node, Selected):
        return Selected(rename(node.name), node.code)
    if isinstance(node, Answered):
        return Answered(rename(node.name))
    if isinstance(node, Not):
        return Not(_rename(node.operand, rename))
    return type(node)(tuple(_rename(o, rename) for o in node.operands))


# ---------------------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------------------


def _literal(value: Literal_) -> str:
    if isinstance(value, str):
        if "'" not in value:
            return f"'{value}'"
        if '"' not in value:
            return f'"{value}"'
        raise SkipLogicError("a value cannot contain both ' and \"")
    if isinstance(value, float):
        text = repr(value)  # the shortest text that reads back as the same float
        if "e" in text or "E" in text:  # XPath has no exponents: write every digit out
            text = format(Decimal(text), "f")
        return text if "." in text else text + ".0"
    return str(value)


def format_expr(node: Expr) -> str:
    """The canonical text of an expression in our dialect: `parse(format_expr(e)) == e`."""
    if isinstance(node, Compare):
        return f"{node.name} {node.op} {_literal(node.value)}"
    if isinstance(node, Selected):
        return f"selected({node.name}, {_literal(node.code)})"
    if isinstance(node, Answered):
        return f"answered({node.name})"
    if isinstance(node, Not):
        inner = node.operand
        if isinstance(inner, (Selected, Answered)):
            return f"not {format_expr(inner)}"
        return f"not ({format_expr(inner)})"
    if isinstance(node, And):
        return " and ".join(f"({format_expr(o)})" if isinstance(o, Or) else format_expr(o) for o in node.operands)
    if isinstance(node, Or):
        return " or ".join(format_expr(o) for o in node.operands)
    raise TypeError(f"not an expression: {node!r}")


def _default_ref(name: str) -> str:
    return "${" + name + "}"


def to_xpath(node: Expr | str, ref: Callable[[str], str] = _default_ref) -> str:
    """The XLSForm `relevant` text of an expression (an AST or our dialect's text) with the same meaning."""
    if isinstance(node, str):
        node = parse(node)
    return _xpath(node, ref, top=True)


def _xpath(node: Expr, ref: Callable[[str], str], top: bool = False) -> str:
    if isinstance(node, Compare):
        if node.op == "!=":
            text = f"{ref(node.name)} != '' and {ref(node.name)} != {_literal(node.value)}"
            return text if top else f"({text})"
        return f"{ref(node.name)} {node.op} {_literal(node.value)}"
    if isinstance(node, Selected):
        return f"selected({ref(node.name)}, {_literal(node.code)})"
    if isinstance(node, Answered):
        return f"{ref(node.name)} != ''"
    if isinstance(node, Not):
        return f"not({_xpath(node.operand, ref, top=True)})"
    if isinstance(node, And):
        return " and ".join(f"({_xpath(o, ref, True)})" if isinstance(o, Or) else _xpath(o, ref) for o in node.operands)
    if isinstance(node, Or):
        return " or ".join(_xpath(o, ref) for o in node.operands)
    raise TypeError(f"not an expression: {node!r}")


# ---------------------------------------------------------------------------------------------------------
# Analysis and evaluation
# ---------------------------------------------------------------------------------------------------------


def references(node: Expr) -> list[Expr]:
    """Every leaf (Compare, Selected, Answered) in reading order: what a validator checks."""
    if isinstance(node, (Compare, Selected, Answered)):
        return [node]
    if isinstance(node, Not):
        return references(node.operand)
    return [leaf for o in node.operands for leaf in references(o)]


def referenced_names(node: Expr) -> frozenset[str]:
    """The question ids an expression reads."""
    return frozenset(leaf.name for leaf in references(node))  # type: ignore[union-attr]


def is_answered(value: Any) -> bool:
    """The one definition of "has an answer": None, '', [] and {} are no answer."""
    return value is not None and value != "" and value != [] and value != {}


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compile_expr(node: Expr) -> Callable[[Mapping[str, Any]], bool]:
    """A fast predicate over an answers mapping (question id -> answer) with the documented semantics.

    Values of the wrong kind (a number compared with text, and so on) make a comparison false instead of
    raising, so a predicate is safe on unvalidated input too.
    """
    if isinstance(node, Compare):
        name, value, cmp = node.name, node.value, _COMPARE[node.op]
        if isinstance(value, str):

            def compare_text(a: Mapping[str, Any]) -> bool:
                v = a.get(name)
                return isinstance(v, str) and v != "" and cmp(v, value)

            return compare_text

        def compare_number(a: Mapping[str, Any]) -> bool:
            v = a.get(name)
            return isinstance(v, (int, float)) and not isinstance(v, bool) and cmp(v, value)

        return compare_number
    if isinstance(node, Selected):
        name, code = node.name, node.code

        def selected(a: Mapping[str, Any]) -> bool:
            v = a.get(name)
            if isinstance(v, str):
                return v == code
            return isinstance(v, (list, tuple)) and code in v

        return selected
    if isinstance(node, Answered):
        name = node.name
        return lambda a: is_answered(a.get(name))
    if isinstance(node, Not):
        inner = compile_expr(node.operand)
        return lambda a: not inner(a)
    parts = tuple(compile_expr(o) for o in node.operands)
    if isinstance(node, And):
        return lambda a: all(p(a) for p in parts)
    return lambda a: any(p(a) for p in parts)


def evaluate(node: Expr | str, answers: Mapping[str, Any]) -> bool:
    """Evaluate once (parse if given text). For repeated use, keep `compile_expr`'s predicate."""
    return compile_expr(parse(node) if isinstance(node, str) else node)(answers)
