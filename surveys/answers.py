"""Validating a patient's answers against a survey definition: the submission hot path, pure and fast.

`CompiledSurvey` prepares a (validated) definition once: option codes as frozensets, `show_if` parsed and
turned into closures, one small checker per question. Build it once per published version and reuse it;
`validate_response(compiled_or_definition, answers, lang)` then returns the normalised answers to store,
or raises `InvalidInput` listing every problem with `field` = question id (``question_id[row]`` for a
grid row). The web form and the JSON API share it.

Answers come as ``{question id: value}``: a code (single choice), a list of distinct codes (multiple
choice), ``{row id: code}`` (rating grid), an int 0-10 (scale), a number, ``'YYYY-MM-DD'`` or
``{"day", "month", "year"}`` (date), or text. Numbers may also come as text (as a web form posts them),
read in the respondent's language (``'3,5'`` in Polish). Empty values (None, '', [], {}) mean "not
answered". The result holds only answered, shown questions, in survey order, as JSON-ready values:
codes, sorted-by-survey-order code lists, row dicts, ints/floats, ISO date strings and cleaned text
(NFC, control characters removed except newlines, trimmed; a short text is one line).

**Skip logic.** Questions are checked in order and `show_if` is evaluated on the cleaned answers before
it, so "shown" means exactly what the patient saw. A required question that is shown must be answered.
An answer to a *hidden* question is rejected by default (``hidden="reject"``: a JSON client that answers
a question its own answers hid is out of sync, and storing it would give the question answers from
people it was not meant for). The server-rendered form passes ``hidden="drop"``: without JavaScript a
page shows a conditional question whatever its condition, so a patient may have typed into it before
changing the earlier answer; those answers are dropped silently, never stored. When an earlier answer is
itself invalid, questions that depend on it are neither required nor rejected as hidden (their
visibility is unknown), so one mistake gives one error.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from decimal import InvalidOperation
from typing import Any, Literal

from babel.numbers import NumberFormatError, parse_decimal

from prg.errors import ErrorDetail, InvalidInput
from surveys import skip_logic
from surveys.definition import (
    DateQuestion,
    LongTextQuestion,
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    RatingGridQuestion,
    ScaleQuestion,
    ShortTextQuestion,
    SingleChoiceQuestion,
    SurveyDefinition,
    grid_field,
    validate_definition,
)
from surveys.calculations import Calculator
from surveys.skip_logic import is_answered

__all__ = [
    "CompiledSurvey", "HiddenAnswers", "calculator", "choice_labels", "clean_text", "conditions",
    "same_page_conditions", "validate_response",
]  # fmt: skip

HiddenAnswers = Literal["reject", "drop"]
MAX_UNKNOWN_REPORTED = 20  # a hostile body with 10,000 junk keys gets a short error list

Problem = tuple[str, str]  # (field, message)
_NO_PROBLEMS: list[Problem] = []  # shared, never appended to

# ---------------------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------------------

# C0 and C1 controls but the newline, DEL, lone surrogates (not encodable as UTF-8), BOM and non-characters.
_UNWANTED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
_NEWLINES = re.compile("\r\n|[\r\u2028\u2029\x85\x0b\x0c]")
_SPACES_AROUND_NEWLINES = re.compile(r"[ \t]*\n[ \t]*")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(value: str, multiline: bool) -> str:
    """Text as stored: NFC, newlines unified (or, for one line, made spaces), tabs to spaces, other control
    characters removed, lines trimmed at the ends, at most one blank line in a row, trimmed."""
    text = _NEWLINES.sub("\n", value).replace("\t", " ")
    text = _UNWANTED.sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if multiline:
        text = _MANY_BLANK_LINES.sub("\n\n", _SPACES_AROUND_NEWLINES.sub("\n", text))
    elif "\n" in text:
        text = " ".join(part.strip() for part in text.split("\n") if part.strip())
    return text.strip()


# ---------------------------------------------------------------------------------------------------------
# Numbers and dates
# ---------------------------------------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"^[+-]?\d{1,15}(\.\d{1,15})?$")
_NUMBER_SPACES = re.compile(r"[\s\u00a0\u2009\u202f]+")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _number(raw: Any, lang: str) -> int | float | None:
    """An int or float from JSON or typed text; None if it is not a number."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return raw if math.isfinite(raw) else None
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    text = _NUMBER_SPACES.sub("", raw)  # "1 500", "1\u00a0500": spaces group digits in many languages
    if _PLAIN_NUMBER.match(text):
        return int(text) if "." not in text else float(text)
    try:  # the respondent's own way of writing numbers: "3,5" in Polish, "1,500" in English
        value = parse_decimal(text, locale=lang.replace("-", "_"), strict=True)
    except (NumberFormatError, InvalidOperation, ValueError, LookupError, TypeError):
        return None
    if not value.is_finite():
        return None
    return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)


def _format_number(value: int | float) -> str:
    """A bound as a message shows it: 50, 2.5, 10,000."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}"


def _date(raw: Any) -> date | None:
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if _ISO_DATE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                return None
        return None
    if isinstance(raw, Mapping) and set(raw) <= {"day", "month", "year"}:
        parts = [_number(raw.get(k), "en") for k in ("year", "month", "day")]
        if all(isinstance(p, int) for p in parts):
            try:
                return date(*parts)  # type: ignore[arg-type]
            except (ValueError, TypeError):
                return None
    return None


def _date_is_empty(raw: Any) -> bool:
    """A day/month/year form post with nothing typed in."""
    return isinstance(raw, Mapping) and all(not is_answered(v) for v in raw.values())


# ---------------------------------------------------------------------------------------------------------
# Per-question checkers
# ---------------------------------------------------------------------------------------------------------


class _Checker:
    """Cleans one question's raw answer. `clean` returns (value or None when unanswered, problems)."""

    __slots__ = ("id", "required", "show", "depends_on", "missing_message")

    def __init__(self, q: Question, show: Callable[[Mapping[str, Any]], bool] | None, depends_on: frozenset[str]):
        self.id = q.id
        self.required = q.required
        self.show = show
        self.depends_on = depends_on
        self.missing_message = "Answer this question"

    def clean(self, raw: Any, lang: str) -> tuple[Any, list[Problem]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def missing(self, value: Any) -> list[Problem]:
        """Problems when a required, shown question has `value` (None or partial)."""
        return [(self.id, self.missing_message)] if value is None else []


class _SingleChoice(_Checker):
    __slots__ = ("codes",)

    def __init__(self, q: SingleChoiceQuestion, show: Any, deps: frozenset[str]) -> None:
        super().__init__(q, show, deps)
        self.codes = frozenset(o.code for o in q.options)
        self.missing_message = "Select an answer"

    def clean(self, raw: Any, lang: str) -> tuple[Any, list[Problem]]:
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)  # a code such as "1" sent as a JSON number
        if isinstance(raw, str):
            if raw in self.codes:
                return raw, []
            if raw == "":
                return None, []
        return None, [(self.id, "Select one of the answers given")]


class _MultipleChoice(_Checker):
    __slots__ = ("order",)

    def __init__(self, q: MultipleChoiceQuestion, show: Any, deps: frozenset[str]) -> None:
        super().__init__(q, show, deps)
        self.order = {o.code: i for i, o in enumerate(q.options)}
        self.missing_message = "Select at least one answer"

    def clean(self, raw: Any, lang: str) -> tuple[Any, list[Problem]]:
        if not isinstance(raw, (list, tuple)):
            return None, [(self.id, "Give the selected answers as a list of answer codes")]
        if not raw:
            return None, []
        order = self.order
        if len(raw) > len(order) * 2 or not all(isinstance(c, str) and c in order for c in raw):
            return None, [(self.id, "Select only answers that are given")]
        if len(set(raw)) != len(raw):
            return None, [(self.id, "Select each answer only once")]
        return sorted(raw, key=order.__getitem__), []


class _RatingGrid(_Checker):
    __slots__ = ("codes", "rows")

    def __init__(self, q: RatingGridQuestion, show: Any, deps: frozenset[str]) -> None:
        super().__init__(q, show, deps)
        self.codes = frozenset(o.code for o in q.options)
        self.rows = [r.id for r in q.rows]

    def clean(self, raw: Any, lang: str) -> tuple[Any, list[Problem]]:
        if not isinstance(raw, Mapping):
            return None, [(self.id, "Give the answers as an object of row id to answer code")]
        problems: list[Problem] = []
        rows = set(self.rows)
        for key in raw:
            if key not in rows:
                field = grid_field(self.id, key[:64] if isinstance(key, str) else "?")
                problems.append((field, "is not a row of this question"))
                if len(problems) >= MAX_UNKNOWN_REPORTED:
                    break
        out: dict[str, str] = {}
        for row in self.rows:
            value = raw.get(row)
            if value is None or value == "":
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if isinstance(value, str) and value in self.codes:
                out[row] = value
            else:
                problems.append((grid_field(self.id, row), "Select one of the answers given"))
        if problems:
            return None, problems
        return (out or None), []

    def missing(self, value: Any) -> list[Problem]:
        answered = value or {}
        return [(grid_field(self.id, r), "Select an answer for this row") for r in self.rows if r not in answered]


class _Scale(_Checker):
    __slots__ = ()

    def __init__(self, q: ScaleQuestion, show: Any, deps: frozenset[str]) -> None:
        super().__init__(q, show, deps)
        self.missing_message = "Select a number from 0 to 10"

    def clean(self, raw: Any, lang: str) -> tuple[Any, list[Problem]]:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None, []
        value = _number(raw, lang)
        if value is None or value != int(value) or not 0 <= value <= 10:
            return None, [(self.id, "Select a whole number from 0 to 10")]
        return int(value), []


class _Number(_Checker):
    __slots__ = ("integer", "min", "max", "min_exclusive", "max_exclusive", "step", "range_message")

    def __init__(self, q: NumberQuestion, show: Any, deps: frozenset[str]) -> None:
        super().__init__(q, show, deps)
        self.integer, self.min, self.max, self.step = q.integer, q.min, q.max, q.step
        self.min_exclusive, self.max_exclusive = q.min_exclusive, q.max_exclusive
        self.missing_message = "Enter a whole number" if q.integer else "Enter a number"
        kind = "a whole number" if q.integer else "a number"
        low = None if q.min is None else (f"more than {_format_number(q.min)}" if q.min_exclusive
                                          else f"{_format_number(q.min)} or more")
        high = None if q.max is None else (f"less than {_format_number(q.max)}" if q.max_exclusive
                                           else f"{_format_number(q.max)} or less")
        if q.step is not None and q.min is not None and q.max is not None:
            self.range_message = (f"Enter {kind} from {_format_number(q.min)} to {_format_number(q.max)} in steps of "
                                  f"{_format_number(q.step)}")
        elif q.min is not None and q.max is not None and not (q.min_exclusive or q.max_exclusive):
            self.range_message = f"Enter {kind} between {_format_number(q.min)} and {_format_number(q.max)}"
        elif low and high:
            self.range_message = f"Enter {kind} that is {low} and {high}"
        elif low or high:
            self.range_message = f"Enter {kind} that is {low or high}"
        else:
            self.range_message = f"Enter {kind} between -1,000,000,000,000 and 1,000,000,000,000"

    def clean(self, raw: Any, lang: str) -> tuple[Any, list[Problem]]:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None, []
        value = _number(raw, lang)
        if value is None:
            example = "Enter a whole number, like 12" if self.integer else "Enter a number, like 12 or 3.5"
            return None, [(self.id, example)]
        if self.integer:
            if value != int(value):
                return None, [(self.id, "Enter a whole number, like 12")]
            value = int(value)
        if (self.min is not None and (value <= self.min if self.min_exclusive else value < self.min)) or (
            self.max is not None and (value >= self.max if self.max_exclusive else value > self.max)
        ):
            return None, [(self.id, self.range_message)]
        if self.step is not None and self.min is not None:
            steps = (value - self.min) / self.step
            if abs(steps - round(steps)) > 1e-9:
                return None, [(self.id, self.range_message)]
        if abs(value) > 1e12:
            return None, [(self.id, self.range_message)]
        return value, []


class _Date(_Checker):
    __slots__ = ("min", "max")

    def __init__(self, q: DateQuestion, show: Any, deps: frozenset[str]) -> None:
        super().__init__(q, show, deps)
        self.min, self.max = q.min, q.max
        self.missing_message = "Enter a date"

    def clean(self, raw: Any, lang: str) -> tuple[Any, list[Problem]]:
        if raw is None or (isinstance(raw, str) and not raw.strip()) or _date_is_empty(raw):
            return None, []
        value = _date(raw)
        if value is None:
            return None, [(self.id, "Enter a real date, for example 2024-03-27")]
        if self.min is not None and value < self.min:
            return None, [(self.id, f"Enter a date on or after {self.min.isoformat()}")]
        if self.max is not None and value > self.max:
            return None, [(self.id, f"Enter a date on or before {self.max.isoformat()}")]
        return value.isoformat(), []


class _Text(_Checker):
    __slots__ = ("max_length", "multiline")

    def __init__(self, q: ShortTextQuestion | LongTextQuestion, show: Any, deps: frozenset[str]) -> None:
        super().__init__(q, show, deps)
        self.max_length = q.max_length
        self.multiline = isinstance(q, LongTextQuestion)
        self.missing_message = "Enter an answer"

    def clean(self, raw: Any, lang: str) -> tuple[Any, list[Problem]]:
        if raw is None:
            return None, []
        if not isinstance(raw, str):
            return None, [(self.id, "Enter the answer as text")]
        too_long = (self.id, f"Answer must be {self.max_length:,} characters or fewer")
        if len(raw) > self.max_length * 4 + 1000:  # far past the limit: do not spend time cleaning it
            return None, [too_long]
        text = clean_text(raw, self.multiline)
        if not text:
            return None, []
        if len(text) > self.max_length:
            return None, [too_long]
        return text, []


_CHECKERS: dict[type, type[_Checker]] = {
    SingleChoiceQuestion: _SingleChoice,
    MultipleChoiceQuestion: _MultipleChoice,
    RatingGridQuestion: _RatingGrid,
    ScaleQuestion: _Scale,
    NumberQuestion: _Number,
    DateQuestion: _Date,
    ShortTextQuestion: _Text,
    LongTextQuestion: _Text,
}


# ---------------------------------------------------------------------------------------------------------
# The compiled survey
# ---------------------------------------------------------------------------------------------------------


Predicate = Callable[[Mapping[str, Any]], bool]


def calculator(definition: SurveyDefinition) -> Calculator:
    """The survey's calculations, ready to work out from answers."""
    return Calculator([(c.id, c.calculation) for c in definition.calculations])


def choice_labels(definition: SurveyDefinition, lang: str) -> Callable[[str, str], str]:
    """(question id, answer code) -> the answer's label for a reader of `lang` (the code when unknown)."""
    labels = {q.id: {o.code: o.label for o in q.options} for q in definition.questions()
              if isinstance(q, (SingleChoiceQuestion, MultipleChoiceQuestion))}
    return lambda qid, code: definition.text(labels.get(qid, {}).get(code), lang) or code


def _both(first: tuple[Predicate, frozenset[str]] | None,
          second: tuple[Predicate, frozenset[str]] | None) -> tuple[Predicate, frozenset[str]] | None:
    if first is None or second is None:
        return first or second
    a, b = first[0], second[0]
    return (lambda answers: a(answers) and b(answers)), first[1] | second[1]


def conditions(definition: SurveyDefinition) -> dict[str, tuple[Predicate, frozenset[str]]]:
    """For every question and note shown only on a condition (its own `show_if`, its section's, or both): a
    predicate over answers keyed by question id, and the question ids it reads.

    A condition may test a calculation: the predicate works it out from the answers it reads (labels for
    ``jr:choice-name`` in the survey's default language), and those questions are among the ids read. The
    validator, the results (`surveys.collation`) and the form share these predicates.
    """
    calc = calculator(definition)
    labels = choice_labels(definition, definition.default_language)

    def condition(text: str) -> tuple[Predicate, frozenset[str]]:
        expr = skip_logic.parse(text)
        predicate = skip_logic.compile_expr(expr)
        names = skip_logic.referenced_names(expr)
        used = [n for n in names if n in calc]
        if not used:
            return predicate, names
        reads = frozenset(n for n in names if n not in calc).union(*(calc.inputs(n) for n in used))
        return (lambda answers: predicate(calc.values(answers, labels))), reads

    out: dict[str, tuple[Predicate, frozenset[str]]] = {}
    for section in definition.sections:
        section_condition = condition(section.show_if) if section.show_if else None
        for item in (*section.questions, *section.notes):
            found = _both(section_condition, condition(item.show_if) if item.show_if else None)
            if found is not None:
                out[item.id] = found
    return out


def same_page_conditions(definition: SurveyDefinition) -> frozenset[str]:
    """Questions and notes whose condition reads an answer given on their own page (directly or through a
    calculation). Without JavaScript the page cannot react to that answer, so the form always shows them;
    answers to those that turn out hidden are dropped when the response is checked (``hidden="drop"``)."""
    found: set[str] = set()
    found_conditions = conditions(definition)
    for section in definition.sections:
        page = {q.id for q in section.questions}
        for item in (*section.questions, *section.notes):
            reads = found_conditions.get(item.id, (None, frozenset()))[1]
            if not page.isdisjoint(reads):
                found.add(item.id)
    return frozenset(found)


class _OptionFilter:
    """A choice question's `choice_filter`, compiled: the codes it offers given earlier answers."""

    __slots__ = ("pairs", "options")

    def __init__(self, q: SingleChoiceQuestion | MultipleChoiceQuestion, kinds: Mapping[str, Question]) -> None:
        self.pairs = [(target, isinstance(kinds.get(target), MultipleChoiceQuestion)) for target in q.choice_filter.values()]
        columns = list(q.choice_filter)
        self.options = [(o.code, tuple(o.code if c == "name" else o.filters.get(c, "") for c in columns))
                        for o in q.options]

    def offered(self, answers: Mapping[str, Any]) -> list[str]:
        wanted = []
        for target, multiple in self.pairs:
            answer = answers.get(target)
            wanted.append(set(answer or ()) if multiple else {answer if isinstance(answer, str) else ""})
        return [code for code, values in self.options if all(v in w for v, w in zip(values, wanted))]


class CompiledSurvey:
    """A definition prepared for validating many responses. Immutable; safe to share between requests.

    `CompiledSurvey(defn)` raises InvalidInput if the definition does not pass `validate_definition`
    (pass ``check=False`` only for a definition already validated, e.g. a published version).
    """

    __slots__ = ("definition", "languages", "calculator", "conditions", "_checkers", "_by_id", "_filters")

    def __init__(self, definition: SurveyDefinition, *, check: bool = True) -> None:
        if check:
            errors = validate_definition(definition)
            if errors:
                raise InvalidInput("The survey definition is not valid.", errors)
        self.definition = definition
        self.languages = frozenset(definition.languages)
        self.calculator = calculator(definition)
        self.conditions = conditions(definition)
        by_id = {q.id: q for q in definition.questions()}
        checkers: list[_Checker] = []
        self._filters: dict[str, tuple[_OptionFilter, frozenset[str]]] = {}
        for q in definition.questions():
            show, deps = self.conditions.get(q.id, (None, frozenset()))
            checkers.append(_CHECKERS[type(q)](q, show, deps))  # type: ignore[arg-type]
            if isinstance(q, (SingleChoiceQuestion, MultipleChoiceQuestion)) and q.choice_filter:
                self._filters[q.id] = (_OptionFilter(q, by_id), frozenset(q.choice_filter.values()))
        self._checkers = tuple(checkers)
        self._by_id = {c.id: c for c in checkers}

    def offered(self, question_id: str, answers: Mapping[str, Any]) -> list[str] | None:
        """The answer codes a choice question offers given (cleaned) earlier answers; None: all of them."""
        found = self._filters.get(question_id)
        return found[0].offered(answers) if found else None

    def cleaned(self, answers: Mapping[str, Any], lang: str) -> dict[str, Any]:
        """Each answer that is valid on its own, cleaned (others left out): what a page shows back."""
        out: dict[str, Any] = {}
        for c in self._checkers:
            raw = answers.get(c.id)
            if raw is None or raw == "":
                continue
            value, errs = c.clean(raw, lang)
            if value is not None and not errs:
                out[c.id] = value
        return out

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self._checkers)

    def shown(self, answers: Mapping[str, Any], lang: str | None = None) -> list[str]:
        """Ids of the questions shown given the answers so far (cleaned first, so a form's raw "3" counts as
        the number 3): what a form renders next."""
        answers = self.cleaned(answers, lang or self.definition.default_language)
        shown: list[str] = []
        visible: dict[str, Any] = {}
        for c in self._checkers:
            if c.show is None or c.show(visible):
                shown.append(c.id)
                if c.id in answers:
                    visible[c.id] = answers[c.id]
        return shown

    def validate(self, answers: Any, lang: str, *, hidden: HiddenAnswers = "reject") -> dict[str, Any]:
        """The normalised answers to store; InvalidInput listing every problem. See the module docstring."""
        if hidden not in ("reject", "drop"):
            raise ValueError(f"hidden must be 'reject' or 'drop', not {hidden!r}")
        if not isinstance(answers, Mapping):
            raise InvalidInput("The answers must be an object keyed by question id.")
        problems: list[Problem] = []
        if lang not in self.languages:
            problems.append(("language", f"'{str(lang)[:20]}' is not one of this survey's languages"))
        by_id = self._by_id
        unknown = [k for k in answers if k not in by_id]
        for key in unknown[:MAX_UNKNOWN_REPORTED]:
            problems.append((str(key)[:64], "is not a question in this survey"))
        cleaned: dict[str, Any] = {}
        failed: set[str] = set()  # questions whose answer was wrong or missing: dependants are not judged
        for c in self._checkers:
            if c.show is None:
                shown: bool | None = True
            elif failed and not failed.isdisjoint(c.depends_on):
                shown = None  # depends on an answer that is itself in error
            else:
                shown = c.show(cleaned)
            raw = answers.get(c.id)
            value, errs = (None, _NO_PROBLEMS) if raw is None or raw == "" else c.clean(raw, lang)
            if errs:
                problems.extend(errs)
                failed.add(c.id)
                continue
            if shown is False:
                if value is not None and hidden == "reject":
                    problems.append((c.id, "This question was not asked, given the earlier answers, so it cannot be answered"))
                    failed.add(c.id)
                continue
            if shown and c.required:
                missing = c.missing(value)
                if missing:
                    problems.extend(missing)
                    failed.add(c.id)
                    continue
            if value is not None and c.id in self._filters:
                option_filter, reads = self._filters[c.id]
                if failed.isdisjoint(reads):
                    offered = option_filter.offered(cleaned)
                    if any(code not in offered for code in (value if isinstance(value, list) else [value])):
                        problems.append((c.id, "Select only answers that are given" if isinstance(value, list)
                                         else "Select one of the answers given"))
                        failed.add(c.id)
                        continue
            if value is not None:
                cleaned[c.id] = value
        if problems:
            raise InvalidInput(
                "Some answers need correcting.", [ErrorDetail(message, field=field) for field, message in problems]
            )
        return cleaned


def validate_response(
    survey: SurveyDefinition | CompiledSurvey, answers: Any, lang: str, *, hidden: HiddenAnswers = "reject"
) -> dict[str, Any]:
    """Check a response and return the normalised answers to store (InvalidInput on any problem).

    Pass a `CompiledSurvey` on the hot path; a bare definition is compiled (and checked) on every call.
    """
    compiled = survey if isinstance(survey, CompiledSurvey) else CompiledSurvey(survey)
    return compiled.validate(answers, lang, hidden=hidden)
