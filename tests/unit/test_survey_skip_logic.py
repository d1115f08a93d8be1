"""Skip logic ("show if"): what a survey author writes, what a patient is shown, and the XLSForm mapping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys import skip_logic
from surveys.skip_logic import (
    And,
    Answered,
    Compare,
    Not,
    Or,
    Selected,
    SkipLogicError,
    compile_expr,
    evaluate,
    format_expr,
    from_xpath,
    parse,
    to_xpath,
)

# ---------------------------------------------------------------------------------------------------------
# Reading expressions
# ---------------------------------------------------------------------------------------------------------


def test_parses_comparisons_calls_and_precedence():
    # `and` binds tighter than `or`, as in XPath and SQL.
    expr = parse("visited = 'yes' or rating <= 3 and selected(problems, 'phone')")
    assert expr == Or(
        (
            Compare("visited", "=", "yes"),
            And((Compare("rating", "<=", 3), Selected("problems", "phone"))),
        )
    )
    assert parse("not answered(age)") == Not(Answered("age"))
    assert parse('code != "a b"') == Compare("code", "!=", "a b")
    assert parse("weight > -2.5") == Compare("weight", ">", -2.5)


def test_parentheses_and_nesting_are_normalised_to_a_canonical_text():
    text = "((a = 'x')) and (b = 'y' and (c > 1 or d < 2))"
    expr = parse(text)
    assert expr == And(
        (Compare("a", "=", "x"), Compare("b", "=", "y"), Or((Compare("c", ">", 1), Compare("d", "<", 2))))
    )
    assert format_expr(expr) == "a = 'x' and b = 'y' and (c > 1 or d < 2)"
    assert format_expr(parse("not (a = 'x')")) == "not (a = 'x')"
    assert format_expr(parse("not selected(a,'x')")) == "not selected(a, 'x')"


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("", 1, "empty"),
        ("visited =", 10, "expected a value in quotes or a number"),
        ("visited == 'yes'", 9, "write = for equals"),
        ("visited = 'yes' rating > 3", 17, "join conditions with 'and' or 'or'"),
        ("visited = 'yes", 11, "no closing '"),
        ("(visited = 'yes'", 17, "expected ')'"),
        ("visited < = 3", 11, "write <= without a space"),
        ("count(problems) > 1", 1, "function count() is not supported"),
        ("${visited} = 'yes'", 1, "without ${ }"),
        ("visited = yes", 11, "expected a value in quotes"),
        ("and = 'x'", 1, "keyword"),
        ("visited = 'yes' and", 20, "expected a question name"),
        ("rating > 3abc", 10, "not a number"),
        ("selected(problems 'phone')", 19, "expected ','"),
        ("visited ~ 'yes'", 9, "unexpected character '~'"),
    ],
)
def test_errors_say_what_is_wrong_and_where(text, position, fragment):
    with pytest.raises(SkipLogicError) as caught:
        parse(text)
    assert fragment in str(caught.value)
    assert f"at character {position}:" in str(caught.value)


def test_comparing_with_empty_text_is_refused_in_favour_of_answered():
    with pytest.raises(SkipLogicError, match=r"use answered\(q\)"):
        parse("q = ''")


def test_no_code_is_ever_executed():
    for hostile in ("__import__('os').system('rm -rf /')", "q = 'a'; import os", "lambda: 1", "q = 'a' # x"):
        with pytest.raises(SkipLogicError):
            parse(hostile)


def test_size_and_depth_are_bounded():
    with pytest.raises(SkipLogicError, match="longer than 1000"):
        parse("q = 'a' or " * 100 + "q = 'b'")
    with pytest.raises(SkipLogicError, match="nests more than"):
        parse("(" * 40 + "q = 'a'" + ")" * 40)
    with pytest.raises(SkipLogicError, match="nests more than"):
        parse("not " * 40 + "answered(q)")


# ---------------------------------------------------------------------------------------------------------
# Meaning
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answers", "shown"),
    [
        ("visited = 'yes'", {"visited": "yes"}, True),
        ("visited = 'yes'", {"visited": "no"}, False),
        ("visited = 'yes'", {}, False),
        # A comparison with an unanswered question is false, whatever the operator...
        ("visited != 'yes'", {}, False),
        ("visited != 'yes'", {"visited": "no"}, True),
        ("rating < 3", {}, False),
        ("rating >= 0", {}, False),
        # ... so "not answered yes" is written with not, and is true when unanswered.
        ("not (visited = 'yes')", {}, True),
        ("not answered(visited)", {}, True),
        ("answered(visited)", {"visited": "no"}, True),
        ("answered(why)", {"why": ""}, False),
        ("answered(problems)", {"problems": []}, False),
        ("rating <= 3", {"rating": 3}, True),
        ("rating <= 3", {"rating": 4}, False),
        ("rating > 2.5", {"rating": 3}, True),
        ("rating = 7", {"rating": 7.0}, True),
        ("selected(problems, 'phone')", {"problems": ["wait", "phone"]}, True),
        ("selected(problems, 'phone')", {"problems": ["wait"]}, False),
        ("selected(visited, 'yes')", {"visited": "yes"}, True),  # on a single choice: equality
        ("selected(problems, 'phone')", {}, False),
        ("visited = 'yes' and (rating <= 3 or selected(problems, 'phone'))",
         {"visited": "yes", "rating": 9, "problems": ["phone"]}, True),  # fmt: skip
        # Values of the wrong kind never raise: they make the comparison false.
        ("rating < 3", {"rating": "2"}, False),
        ("visited = 'yes'", {"visited": ["yes"]}, False),
        ("rating < 3", {"rating": True}, False),
    ],
)
def test_evaluation(text, answers, shown):
    assert evaluate(text, answers) is shown
    assert compile_expr(parse(text))(answers) is shown


# ---------------------------------------------------------------------------------------------------------
# XLSForm `relevant`
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "xlsform"),
    [
        ("visited = 'yes'", "${visited} = 'yes'"),
        ("rating >= 7", "${rating} >= 7"),
        ("selected(problems, 'phone')", "selected(${problems}, 'phone')"),
        ("answered(why)", "${why} != ''"),
        ("not answered(why)", "not(${why} != '')"),
        ("visited != 'no'", "${visited} != '' and ${visited} != 'no'"),
        ("a = 'x' and b != 'y'", "${a} = 'x' and (${b} != '' and ${b} != 'y')"),
        ("a = 'x' and (b = 'y' or c = 'z')", "${a} = 'x' and (${b} = 'y' or ${c} = 'z')"),
        ("not (a = 'x' or b < 2)", "not(${a} = 'x' or ${b} < 2)"),
    ],
)
def test_xlsform_mapping_both_ways(ours, xlsform):
    assert to_xpath(ours) == xlsform
    assert format_expr(from_xpath(xlsform)) == ours


@pytest.mark.parametrize(
    ("xlsform", "ours"),
    [
        # XPath compares an empty answer as '': a bare != is true when unanswered, so it reads as not(=).
        ("${visited} != 'no'", "not (visited = 'no')"),
        ("${why} = ''", "not answered(why)"),
        ("${Q1} = 'a'", "q1 = 'a'"),  # with the importer's lower-casing
        ("(${a} = 'x') or (${b} = 'y')", "a = 'x' or b = 'y'"),
        ("${a} = 'x' and ${a} != '' and ${a} != 'y'", "a = 'x' and answered(a) and not (a = 'y')"),
        ("selected( ${q} , 'a' )", "selected(q, 'a')"),
    ],
)
def test_reading_xlsform_idioms(xlsform, ours):
    assert format_expr(from_xpath(xlsform, rename=str.lower)) == ours


@pytest.mark.parametrize(
    ("xlsform", "fragment"),
    [
        ("count-selected(${q}) > 1", "function count-selected() is not supported"),
        ("string-length(${q}) > 0", "function string-length() is not supported"),
        ("${q} == 'a'", "write = for equals"),
        ("not ${q} = 'a'", "not(...) with parentheses"),
        ("q = 'a'", "expected a reference like ${question}"),
        ("${q} > ''", "only by = or !="),
        ("${q} = 'a' or", "expected a reference"),
        ("${q} + 1 > 2", "unexpected character '+'"),
    ],
)
def test_unsupported_xlsform_relevant_is_refused(xlsform, fragment):
    with pytest.raises(SkipLogicError) as caught:
        from_xpath(xlsform)
    assert fragment in str(caught.value)


# ---------------------------------------------------------------------------------------------------------
# Properties over generated expressions
# ---------------------------------------------------------------------------------------------------------

NAMES = ("a", "b", "rating", "problems")


def _leaves() -> st.SearchStrategy:
    return st.one_of(
        st.builds(Compare, st.sampled_from(NAMES), st.sampled_from(skip_logic.OPERATORS), st.sampled_from(("x", "y z", "1"))),
        st.builds(Compare, st.sampled_from(NAMES), st.sampled_from(skip_logic.OPERATORS),
                  st.one_of(st.integers(-20, 20), st.sampled_from((0.5, -2.25, 10.0, 1e-05)))),  # fmt: skip
        st.builds(Selected, st.sampled_from(NAMES), st.sampled_from(("x", "phone"))),
        st.builds(Answered, st.sampled_from(NAMES)),
    )


def _normalise(expr):
    """Generated trees may nest and/and; what parse() gives back is the flattened form."""
    return parse(format_expr(expr))


expressions = st.recursive(
    _leaves(),
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(And, st.lists(inner, min_size=2, max_size=3).map(tuple)),
        st.builds(Or, st.lists(inner, min_size=2, max_size=3).map(tuple)),
    ),
    max_leaves=8,
).map(_normalise)

answers = st.fixed_dictionaries(
    {},
    optional={
        "a": st.sampled_from(("x", "y z", "1", "")),
        "b": st.one_of(st.integers(-20, 20), st.sampled_from(("x", "phone"))),
        "rating": st.one_of(st.integers(-3, 12), st.floats(-3, 12, allow_nan=False)),
        "problems": st.lists(st.sampled_from(("x", "phone", "y z")), max_size=3, unique=True),
    },
)


@settings(max_examples=300)
@given(expressions)
def test_canonical_text_and_xlsform_round_trip(expr):
    assert parse(format_expr(expr)) == expr
    assert from_xpath(to_xpath(expr)) == expr


def _xpath_value(raw, answers):
    """XPath 1.0's view of an answer: unanswered is '', a multiple choice is its space-separated codes."""
    value = answers.get(raw)
    if value is None or value == []:
        return ""
    if isinstance(value, list):
        return " ".join(value)
    return value


def _xpath_eval(node, answers):
    """An independent evaluator with XPath 1.0 / ODK semantics, over the raw XLSForm parse (no rewriting)."""
    import math
    import operator

    node = skip_logic._strip_group(node)
    if isinstance(node, Compare):
        left = _xpath_value(node.name, answers)
        right = node.value
        ops = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
               ">=": operator.ge}  # fmt: skip
        if isinstance(right, str) and node.op in ("=", "!="):
            return ops[node.op](str(left) if not isinstance(left, str) else left, right)

        def number(v):
            if isinstance(v, bool):
                return float(v)
            if isinstance(v, (int, float)):
                return float(v)
            try:
                return float(v)
            except ValueError:
                return math.nan

        a, b = number(left), number(right)
        if math.isnan(a) or math.isnan(b):
            return node.op == "!="
        return ops[node.op](a, b)
    if isinstance(node, Selected):
        value = _xpath_value(node.name, answers)
        return node.code in (value.split(" ") if isinstance(value, str) else [str(value)])
    if isinstance(node, Not):
        return not _xpath_eval(node.operand, answers)
    if isinstance(node, And):
        return all(_xpath_eval(o, answers) for o in node.operands)
    if isinstance(node, Or):
        return any(_xpath_eval(o, answers) for o in node.operands)
    raise AssertionError(node)


def _typed(answers):
    """Keep only answer shapes that a validated survey would store for the leaf kinds used above."""
    out = {}
    for key, value in answers.items():
        if key == "problems" or (isinstance(value, (int, float)) and not isinstance(value, bool)) or value:
            out[key] = value
    return out


@settings(max_examples=400)
@given(expressions, answers)
def test_xlsform_text_means_the_same_under_xpath_rules(expr, answers):
    """What KoBo/ODK shows (XPath rules, unanswered = '') is what our form shows, for every expression
    whose comparisons fit their question's type: text with =/!=, numbers with any operator."""
    answers = _typed(answers)
    leaves = skip_logic.references(expr)
    for leaf in leaves:
        if isinstance(leaf, Compare):
            value = answers.get(leaf.name)
            if isinstance(leaf.value, str) and leaf.op not in ("=", "!="):
                return  # ordering text is refused by validate_definition
            if value is not None and isinstance(value, str) != isinstance(leaf.value, str):
                return  # a number compared with text: refused by validate_definition
            if isinstance(value, list):
                return  # a multiple choice is compared only by selected()
    ours = compile_expr(expr)(answers)
    raw = skip_logic._Parser(to_xpath(expr), "xpath").parse()
    assert _xpath_eval(raw, answers) == ours
