"""Survey definitions: the msgspec types, per-language text, and the checks a definition must pass.

A `SurveyDefinition` is plain data (it is what `SurveyVersion.definition` stores as JSON and what the API
accepts): a title, the survey's languages with a default, and `Section`s of questions. A question is one
of eight types, told apart by its `type` field (a tagged union, so OpenAPI shows each shape):
`single_choice`, `multiple_choice`, `rating_grid` (rows sharing one scale; shown as one radio group per
row), `scale_0_10`, `number`, `date`, `short_text` and `long_text`. Every human string is a `Text`: a
mapping from language code to string that must hold the default language (`text_for` picks the best
string for a reader). Each string and list has bounds (msgspec `Meta`) so the schema tells clients the
real limits; rules that need the whole definition (unique ids, skip logic that points at earlier
questions and real answer codes, demographic dimension mappings) are in `validate_definition`, which
returns every problem with a field path such as ``sections[1].questions[3].options``.
`load_definition` does both steps and raises `InvalidInput`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from prg.errors import ErrorDetail, InvalidInput
from prg.population.dimensions import ETHNIC_CATEGORIES, HIGH_LEVEL_GROUPS, NOT_RECORDED, NOT_STATED, SEXES
from surveys import skip_logic
from surveys.skip_logic import Answered, Compare, Selected, SkipLogicError

__all__ = [
    "DIMENSIONS",
    "DateQuestion",
    "Dimension",
    "GridRow",
    "LongTextQuestion",
    "MultipleChoiceQuestion",
    "NumberQuestion",
    "Option",
    "Question",
    "QuestionBase",
    "RatingGridQuestion",
    "ScaleQuestion",
    "Section",
    "ShortTextQuestion",
    "SingleChoiceQuestion",
    "SurveyDefinition",
    "Text",
    "check_expression",
    "dump_definition",
    "grid_field",
    "load_definition",
    "text_for",
    "validate_definition",
]

# ---------------------------------------------------------------------------------------------------------
# Bounds and constrained strings
# ---------------------------------------------------------------------------------------------------------

MAX_LANGUAGES = 20
MAX_SECTIONS = 50
MAX_QUESTIONS_PER_SECTION = 100
MAX_QUESTIONS = 300  # in the whole survey
MAX_OPTIONS = 100
MAX_GRID_ROWS = 50
MAX_NUMBER = 10**12  # bound on number limits: far past any count or measurement a patient would give
MAX_SHORT_TEXT = 1000
MAX_LONG_TEXT = 10_000

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
NAME_RE = re.compile(NAME_PATTERN)
# Any printable text: no control characters but the newline (tabs included: they break layouts and XLSX).
_PRINTABLE = r"^[^\x00-\x09\x0b-\x1f\x7f]*$"

LanguageCode = Annotated[
    str,
    Meta(
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$",
        max_length=12,
        description="A BCP 47 language code: 'en', 'pl', 'pt-BR'.",
        examples=["en", "pl"],
    ),
]
Name = Annotated[
    str,
    Meta(
        pattern=NAME_PATTERN,
        max_length=64,
        description="A stable identifier: lower-case letters, digits and _, starting with a letter.",
        examples=["overall_experience"],
    ),
]
OptionCode = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$",
        max_length=64,
        description="The stable code stored for an answer; labels may change, codes never do.",
        examples=["very_good", "1"],
    ),
]
DimensionName = Annotated[
    str,
    Meta(
        pattern=r"^(sex|age_band|ethnicity|custom:[a-z][a-z0-9_]{0,49})$",
        max_length=57,
        description="The population dimension a demographic question measures.",
        examples=["sex", "age_band", "ethnicity", "custom:carer"],
    ),
]
GroupKey = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9<][A-Za-z0-9 _+-]{0,49}$",
        max_length=50,
        description="A population group: 'female', an age band such as '16-24' or 'Under 16', 'white', 'carer'.",
    ),
]
ShowIf = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=skip_logic.MAX_LENGTH,
        description="Skip logic: show only when this expression over earlier answers is true "
        "(e.g. \"visited = 'yes' and rating <= 3\"). See surveys.skip_logic.",
        examples=["visited = 'yes'", "selected(problems, 'phone') or age >= 65"],
    ),
]


def _text_type(max_length: int, what: str) -> Any:
    string = Annotated[str, Meta(min_length=1, max_length=max_length, pattern=_PRINTABLE)]
    return Annotated[
        dict[LanguageCode, string],
        Meta(
            min_length=1,
            max_length=MAX_LANGUAGES,
            description=f"{what}, per language: {{language code: text}}; must include the survey's default language.",
            examples=[{"en": "Very good", "pl": "Bardzo dobrze"}],
        ),
    ]


#: A human string in one or more languages (up to 1000 characters each): question labels, section titles.
Text = _text_type(1000, "A label")
#: A survey title (up to 200 characters per language).
TitleText = _text_type(200, "The title")
#: An answer option or grid row label (up to 300 characters per language).
OptionText = _text_type(300, "An answer label")
#: Help or introduction text (up to 2000 characters per language).
HelpText = _text_type(2000, "Help text")


def text_for(text: Mapping[str, str] | None, lang: str, default: str = "en") -> str:
    """The best string of a per-language text for a reader of `lang`.

    Tries `lang` ('pt-BR'), then its primary language ('pt'), then the survey's `default`, then any
    language at all; '' for no text. Never raises, so rendering cannot fail on a missing translation.
    """
    if not text:
        return ""
    found = text.get(lang)
    if found is not None:
        return found
    primary = lang.split("-", 1)[0]
    found = text.get(primary) if primary != lang else None
    if found is None:
        found = text.get(default)
    return found if found is not None else next(iter(text.values()))


# ---------------------------------------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------------------------------------


class _Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    pass


class Option(_Struct):
    """One answer of a choice question or of a grid's shared scale."""

    code: OptionCode
    label: OptionText


class GridRow(_Struct):
    """One row of a rating grid: answered with one option of the grid's scale. Answers are keyed by `id`."""

    id: Name
    label: OptionText


class Dimension(_Struct):
    """What population dimension a demographic question measures, and which group each answer belongs to.

    `groups` maps option codes to population groups: for `sex` 'female'/'male'; for `age_band` band
    labels such as 'Under 16', '16-24', '75+' (the practice profile's bands); for `ethnicity` the five
    high-level groups ('white', 'mixed', 'asian', 'black', 'other') or NHS ethnic category letters (A..S);
    for `custom:<name>` any lower-case key. Options left out (e.g. "Prefer not to say") are not compared.
    """

    name: DimensionName
    groups: Annotated[dict[OptionCode, GroupKey], Meta(min_length=1, max_length=MAX_OPTIONS)]


class QuestionBase(_Struct, tag_field="type"):
    """Fields every question has. `required` applies only while the question is shown."""

    id: Name
    label: Text
    help: HelpText | None = None
    required: bool = False
    show_if: ShowIf | None = None


Options = Annotated[list[Option], Meta(min_length=1, max_length=MAX_OPTIONS)]
TopBox = Annotated[
    list[OptionCode],
    Meta(
        max_length=MAX_OPTIONS,
        description="The codes reported together as the favourable share (e.g. Very good + Good).",
    ),
]


class SingleChoiceQuestion(QuestionBase, tag="single_choice", kw_only=True):
    """Pick one option. May be a demographic question (`dimension`) and have a `top_box`."""

    options: Annotated[list[Option], Meta(min_length=2, max_length=MAX_OPTIONS)]
    top_box: TopBox = []
    dimension: Dimension | None = None


class MultipleChoiceQuestion(QuestionBase, tag="multiple_choice", kw_only=True):
    """Pick any number of options (at least one when required); answered as a list of distinct codes."""

    options: Options


class RatingGridQuestion(QuestionBase, tag="rating_grid", kw_only=True):
    """Rows rated on one shared scale; answered as {row id: option code}. `required` means every row."""

    rows: Annotated[list[GridRow], Meta(min_length=1, max_length=MAX_GRID_ROWS)]
    options: Annotated[list[Option], Meta(min_length=2, max_length=MAX_OPTIONS)]
    top_box: TopBox = []


class ScaleQuestion(QuestionBase, tag="scale_0_10", kw_only=True):
    """A whole number from 0 to 10 (say what 0 and 10 mean in the label or help)."""


Bound = Annotated[int, Meta(ge=-MAX_NUMBER, le=MAX_NUMBER)] | Annotated[float, Meta(ge=float(-MAX_NUMBER), le=float(MAX_NUMBER))]


class NumberQuestion(QuestionBase, tag="number", kw_only=True):
    """A number within optional inclusive bounds; whole numbers only when `integer`."""

    integer: bool = True
    min: Bound | None = None
    max: Bound | None = None


class DateQuestion(QuestionBase, tag="date", kw_only=True):
    """A calendar date within optional inclusive bounds; answered as 'YYYY-MM-DD'."""

    min: date | None = None
    max: date | None = None


class ShortTextQuestion(QuestionBase, tag="short_text", kw_only=True):
    """One line of text (newlines become spaces)."""

    max_length: Annotated[int, Meta(ge=1, le=MAX_SHORT_TEXT)] = 200


class LongTextQuestion(QuestionBase, tag="long_text", kw_only=True):
    """Free text over several lines."""

    max_length: Annotated[int, Meta(ge=1, le=MAX_LONG_TEXT)] = 2000


Question = (
    SingleChoiceQuestion
    | MultipleChoiceQuestion
    | RatingGridQuestion
    | ScaleQuestion
    | NumberQuestion
    | DateQuestion
    | ShortTextQuestion
    | LongTextQuestion
)
CHOICE_TYPES = (SingleChoiceQuestion, MultipleChoiceQuestion, RatingGridQuestion)


class Section(_Struct, kw_only=True):
    """A page of the form. Hidden as a whole while its `show_if` is false."""

    id: Name
    title: Text | None = None
    intro: HelpText | None = None
    show_if: ShowIf | None = None
    questions: Annotated[list[Question], Meta(min_length=1, max_length=MAX_QUESTIONS_PER_SECTION)]


class SurveyDefinition(_Struct, kw_only=True):
    """A whole survey. `languages` lists every language its texts may use; `default_language` is in it."""

    title: TitleText
    default_language: LanguageCode = "en"
    languages: Annotated[list[LanguageCode], Meta(min_length=1, max_length=MAX_LANGUAGES)] = msgspec.field(
        default_factory=lambda: ["en"]
    )
    sections: Annotated[list[Section], Meta(min_length=1, max_length=MAX_SECTIONS)]

    def questions(self) -> Iterator[Question]:
        """Every question in reading order."""
        for section in self.sections:
            yield from section.questions

    def text(self, text: Mapping[str, str] | None, lang: str) -> str:
        """`text_for` with this survey's default language."""
        return text_for(text, lang, self.default_language)


def grid_field(question_id: str, row_id: str) -> str:
    """The error field (and form field) of one grid row: ``question_id[row_id]``."""
    return f"{question_id}[{row_id}]"


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------

_MSGSPEC_PATH = re.compile(r"^(?P<message>.*?)(?: - at `(?P<key>key` in `)?\$(?P<path>[^`]*)`)?$", re.S)


def _from_msgspec(exc: msgspec.ValidationError | msgspec.DecodeError) -> ErrorDetail:
    m = _MSGSPEC_PATH.match(str(exc))
    assert m is not None
    path = (m.group("path") or "").lstrip(".")
    message = m.group("message")
    if m.group("key"):
        message += " (in a key)"
    return ErrorDetail(message, field=path or None)


def load_definition(data: bytes | str | Mapping[str, Any] | SurveyDefinition) -> SurveyDefinition:
    """Decode (JSON bytes/str or a parsed mapping) and fully validate a definition; InvalidInput if bad."""
    if isinstance(data, SurveyDefinition):
        defn = data
    else:
        try:
            if isinstance(data, (bytes, str)):
                defn = msgspec.json.decode(data, type=SurveyDefinition)
            else:
                defn = msgspec.convert(data, SurveyDefinition)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise InvalidInput("The survey definition is not valid.", [_from_msgspec(exc)]) from exc
    errors = validate_definition(defn)
    if errors:
        raise InvalidInput("The survey definition is not valid.", errors)
    return defn


def dump_definition(defn: SurveyDefinition) -> dict[str, Any]:
    """Plain JSON-ready data (defaults omitted); `load_definition(dump_definition(d)) == d`."""
    return msgspec.to_builtins(defn)


# ---------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------

_AGE_BAND_RE = re.compile(r"^(Under \d{1,3}|<\d{1,3}|\d{1,3}-\d{1,3}|\d{1,3}\+)$")
_CUSTOM_GROUP_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,49}$")
_ETHNIC_CODES = frozenset(c for c in ETHNIC_CATEGORIES if c not in (NOT_STATED, NOT_RECORDED))
#: The dimensions a question can measure, with what their groups look like (custom:<name> takes any key).
DIMENSIONS: dict[str, str] = {
    "sex": "'female' or 'male'",
    "age_band": "an age band label such as 'Under 16', '16-24' or '75+'",
    "ethnicity": "a high-level group (white, mixed, asian, black, other) or an NHS ethnic category letter (A to S)",
}


class _Checker:
    def __init__(self, defn: SurveyDefinition) -> None:
        self.defn = defn
        self.errors: list[ErrorDetail] = []
        self.default = defn.default_language
        self.languages = set(defn.languages)
        self.all_ids = {q.id for q in defn.questions()}

    def error(self, field: str, message: str) -> None:
        self.errors.append(ErrorDetail(message, field=field))

    def text(self, field: str, text: Mapping[str, str] | None) -> None:
        if text is None:
            return
        if self.default not in text:
            self.error(field, f"has no text in the survey's default language '{self.default}'")
        extra = [lang for lang in text if lang not in self.languages]
        if extra:
            self.error(field, f"has text in {', '.join(map(repr, extra))}, which is not one of the survey's languages")

    def run(self) -> list[ErrorDetail]:
        defn = self.defn
        if len(set(defn.languages)) != len(defn.languages):
            self.error("languages", "lists a language twice")
        if defn.default_language not in defn.languages:
            self.error("default_language", f"'{defn.default_language}' is not one of the survey's languages")
        self.text("title", defn.title)
        total = sum(len(s.questions) for s in defn.sections)
        if total > MAX_QUESTIONS:
            self.error("sections", f"hold {total} questions; a survey may have at most {MAX_QUESTIONS}")

        # Ids: sections and questions share one namespace (as XLSForm names do); a grid row's
        # XLSForm name `<grid>_<row>` must not collide with them either.
        seen: dict[str, str] = {}
        for s_index, section in enumerate(defn.sections):
            path = f"sections[{s_index}]"
            self._claim(seen, section.id, f"{path}.id")
            for q_index, question in enumerate(section.questions):
                self._claim(seen, question.id, f"{path}.questions[{q_index}].id")
        for s_index, section in enumerate(defn.sections):
            for q_index, question in enumerate(section.questions):
                if isinstance(question, RatingGridQuestion):
                    for r_index, row in enumerate(question.rows):
                        combined = f"{question.id}_{row.id}"
                        if combined in seen:
                            self.error(
                                f"sections[{s_index}].questions[{q_index}].rows[{r_index}].id",
                                f"makes the spreadsheet name '{combined}', which is already the id of "
                                f"{seen[combined]}; rename the row or that item",
                            )

        earlier: dict[str, Question] = {}
        dimensions: dict[str, str] = {}
        for s_index, section in enumerate(defn.sections):
            path = f"sections[{s_index}]"
            self.text(f"{path}.title", section.title)
            self.text(f"{path}.intro", section.intro)
            if section.show_if is not None:
                self.show_if(f"{path}.show_if", section.show_if, earlier, section.id)
            for q_index, question in enumerate(section.questions):
                self.question(f"{path}.questions[{q_index}]", question, earlier, dimensions)
                earlier[question.id] = question
        return self.errors

    def _claim(self, seen: dict[str, str], ident: str, field: str) -> None:
        if ident in seen:
            self.error(field, f"'{ident}' is already used by {seen[ident]}")
        else:
            seen[ident] = field.removesuffix(".id")

    def question(self, path: str, q: Question, earlier: dict[str, Question], dimensions: dict[str, str]) -> None:
        self.text(f"{path}.label", q.label)
        self.text(f"{path}.help", q.help)
        if q.show_if is not None:
            self.show_if(f"{path}.show_if", q.show_if, earlier, q.id)
        if isinstance(q, CHOICE_TYPES):
            codes: set[str] = set()
            for o_index, option in enumerate(q.options):
                if option.code in codes:
                    self.error(f"{path}.options[{o_index}].code", f"'{option.code}' is used by another answer")
                codes.add(option.code)
                self.text(f"{path}.options[{o_index}].label", option.label)
            if isinstance(q, (SingleChoiceQuestion, RatingGridQuestion)):
                unknown = [c for c in q.top_box if c not in codes]
                if unknown:
                    self.error(f"{path}.top_box", f"names {', '.join(map(repr, unknown))}, not answers of this question")
                if len(set(q.top_box)) != len(q.top_box):
                    self.error(f"{path}.top_box", "lists an answer twice")
            if isinstance(q, RatingGridQuestion):
                rows: set[str] = set()
                for r_index, row in enumerate(q.rows):
                    if row.id in rows:
                        self.error(f"{path}.rows[{r_index}].id", f"'{row.id}' is used by another row")
                    rows.add(row.id)
                    self.text(f"{path}.rows[{r_index}].label", row.label)
            if isinstance(q, SingleChoiceQuestion) and q.dimension is not None:
                self.dimension(f"{path}.dimension", q.dimension, codes, dimensions)
        elif isinstance(q, NumberQuestion):
            if q.min is not None and q.max is not None and q.min > q.max:
                self.error(f"{path}.min", "is more than max")
            if q.integer:
                for name, bound in (("min", q.min), ("max", q.max)):
                    if bound is not None and bound != int(bound):
                        self.error(f"{path}.{name}", "must be a whole number for a whole-number question")
        elif isinstance(q, DateQuestion):
            if q.min is not None and q.max is not None and q.min > q.max:
                self.error(f"{path}.min", "is after max")

    def dimension(self, path: str, dim: Dimension, codes: set[str], seen: dict[str, str]) -> None:
        if dim.name in seen:
            self.error(f"{path}.name", f"'{dim.name}' is already measured by {seen[dim.name]}")
        else:
            seen[dim.name] = path.removesuffix(".dimension")
        unknown = [c for c in dim.groups if c not in codes]
        if unknown:
            self.error(f"{path}.groups", f"maps {', '.join(map(repr, unknown))}, not answers of this question")
        values = list(dim.groups.values())
        if dim.name == "sex":
            bad = [v for v in values if v not in SEXES]
        elif dim.name == "age_band":
            bad = [v for v in values if not _AGE_BAND_RE.match(v)]
        elif dim.name == "ethnicity":
            if all(v in _ETHNIC_CODES for v in values):
                bad = []
            else:
                bad = [v for v in values if v not in HIGH_LEVEL_GROUPS]
        else:
            bad = [v for v in values if not _CUSTOM_GROUP_RE.match(v)]
        if bad:
            expected = DIMENSIONS.get(dim.name, "a lower-case key (letters, digits, _)")
            self.error(f"{path}.groups", f"{', '.join(map(repr, bad))} is not a group of '{dim.name}': use {expected}")

    def show_if(self, field: str, text: str, earlier: Mapping[str, Question], own_id: str) -> None:
        try:
            expr = skip_logic.parse(text)
        except SkipLogicError as exc:
            self.error(field, f"cannot be read: {exc}")
            return
        for message in check_expression(expr, earlier, own_id, self.all_ids):
            self.error(field, message)


def check_expression(
    expr: skip_logic.Expr, earlier: Mapping[str, Question], own_id: str, all_ids: set[str] | None = None
) -> list[str]:
    """What is wrong with an expression's references, given the questions before it (by id)."""
    problems: list[str] = []
    for leaf in skip_logic.references(expr):
        name = leaf.name  # type: ignore[union-attr]
        target = earlier.get(name)
        if target is None:
            if name == own_id:
                problems.append(f"refers to '{name}' itself; skip logic can only use earlier questions")
            elif all_ids is not None and name in all_ids:
                problems.append(f"refers to '{name}', which comes later; skip logic can only use earlier questions")
            else:
                problems.append(f"refers to '{name}', which is not a question of this survey")
            continue
        problem = _check_leaf(leaf, target)
        if problem:
            problems.append(problem)
    return problems


def _check_leaf(leaf: skip_logic.Expr, q: Question) -> str | None:
    name = q.id
    if isinstance(leaf, Answered):
        return None
    if isinstance(q, (SingleChoiceQuestion, MultipleChoiceQuestion)):
        codes = [o.code for o in q.options]
        if isinstance(leaf, Selected):
            code = leaf.code
        elif isinstance(q, MultipleChoiceQuestion):
            return f"'{name}' allows several answers: use selected({name}, 'code')"
        else:
            assert isinstance(leaf, Compare)
            if leaf.op not in ("=", "!="):
                return f"'{name}' is a choice: compare it with = or != only"
            if not isinstance(leaf.value, str):
                return f"'{name}' is a choice: compare it with an answer code in quotes, e.g. {name} = '{codes[0]}'"
            code = leaf.value
        if code not in codes:
            return f"'{code}' is not an answer code of '{name}' (codes: {', '.join(codes)})"
        return None
    if isinstance(q, (ScaleQuestion, NumberQuestion)):
        if isinstance(leaf, Selected):
            return f"'{name}' is a number: compare it, e.g. {name} >= 5"
        assert isinstance(leaf, Compare)
        if isinstance(leaf.value, str):
            return f"'{name}' is a number: compare it with a number, not text in quotes"
        return None
    return f"'{name}' is a {q.__struct_config__.tag} question: skip logic can only test it with answered({name})"


def validate_definition(defn: SurveyDefinition) -> list[ErrorDetail]:
    """Every rule the schema alone cannot express; an empty list means the definition is usable.

    Checks: the default language is declared and every text has it (and no undeclared language); ids of
    sections, questions, options and grid rows are unique; `show_if` parses and refers only to earlier
    questions, with operators and answer codes that fit their type; `top_box` and dimension mappings name
    real answer codes and real population groups, and no dimension is measured twice; number and date
    bounds are in order. Errors come in reading order with paths like ``sections[1].questions[3].options``.
    """
    return _Checker(defn).run()
