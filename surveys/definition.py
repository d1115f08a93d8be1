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
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from prg.errors import ErrorDetail, InvalidInput
from prg.population.dimensions import ETHNIC_CATEGORIES, HIGH_LEVEL_GROUPS, NOT_RECORDED, NOT_STATED, SEXES
from surveys import skip_logic
from surveys.calculations import CalculationError, parse_calculation
from surveys.calculations import references as calculation_references
from surveys.skip_logic import Answered, Compare, Selected, SkipLogicError

__all__ = [
    "DIMENSIONS",
    "Calculation",
    "DateQuestion",
    "Dimension",
    "GridRow",
    "LongTextQuestion",
    "MultipleChoiceQuestion",
    "Note",
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
    "default_problem",
    "dump_definition",
    "fill_pipes",
    "grid_field",
    "load_definition",
    "piped_names",
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
MAX_NOTES_PER_SECTION = 100
MAX_CALCULATIONS = 100
# Free text: the most a text question may allow, and what a question whose author set no limit allows (an
# XLSForm `text` without a string-length constraint). The server's request size limit bounds a whole form.
MAX_TEXT = 10_000
MAX_SHORT_TEXT = MAX_TEXT
MAX_LONG_TEXT = MAX_TEXT

# XLSForm names (XML element names): letters, digits, _, . and -, starting with a letter or _.
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
NAME_RE = re.compile(NAME_PATTERN)
#: Names XLSForm keeps for itself (ODK stores the form's metadata under `meta`).
RESERVED_NAMES = frozenset({"meta"})
#: Columns of an XLSForm choices sheet that cannot also be choice-filter columns.
RESERVED_CHOICE_COLUMNS = frozenset({"list_name", "list name", "name", "label", "media", "image", "audio", "video",
                                     "big-image", "prg_group"})
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
        description="A stable identifier, as XLSForm names are: letters, digits, _, . and -, starting with a "
        "letter or _. Ids of one survey differ in more than capitals.",
        examples=["overall_experience"],
    ),
]
OptionCode = Annotated[
    str,
    Meta(
        pattern=r"^\w[\w.-]{0,63}$",
        max_length=64,
        description="The stable code stored for an answer (letters of any alphabet, digits, _, . and -; no "
        "spaces); labels may change, codes never do.",
        examples=["very_good", "1"],
    ),
]
ChoiceColumn = Annotated[
    str,
    Meta(
        pattern=NAME_PATTERN,
        max_length=64,
        description="A choices-sheet column that a choice filter compares (e.g. 'site'), or 'name' for the "
        "answer's own code.",
        examples=["site"],
    ),
]
FilterValue = Annotated[str, Meta(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
DefaultAnswer = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_TEXT,
        pattern=r"^[^\x00-\x09\x0b-\x1f\x7f]*$",
        description="The answer filled in before the patient answers, written as XLSForm writes it: an answer "
        "code, codes separated by spaces (multiple choice), a number, YYYY-MM-DD or text.",
        examples=["yes", "3", "2024-01-31"],
    ),
]
CalculationText = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=1000,
        description="An XLSForm calculation in the supported subset (see surveys.calculations), e.g. "
        "\"${weight} div (${height} * ${height})\" or \"if(${age} >= 65, 'older', 'younger')\".",
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
    """One answer of a choice question or of a grid's shared scale. `filters` holds the answer's values in the
    choices-sheet columns its question's `choice_filter` compares (e.g. {"site": "north"})."""

    code: OptionCode
    label: OptionText
    filters: Annotated[dict[ChoiceColumn, FilterValue], Meta(max_length=10)] = {}


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
    """Fields every question has. `required` applies only while the question is shown; `default` is the
    answer the form fills in before the patient answers (they may change or clear it). Labels, help and
    answer labels may show earlier answers with ``${question_id}`` (see `piped_names`)."""

    id: Name
    label: Text
    help: HelpText | None = None
    required: bool = False
    show_if: ShowIf | None = None
    default: DefaultAnswer | None = None


Options = Annotated[list[Option], Meta(min_length=1, max_length=MAX_OPTIONS)]
ChoiceFilter = Annotated[
    dict[ChoiceColumn, Name],
    Meta(
        max_length=10,
        description="Cascading choices: {column: question id}. An answer is offered only when, for every pair, "
        "its value in that column (its code for 'name') is the earlier single-choice answer, or is among the "
        "earlier multiple-choice answers. The questions named must be in earlier sections.",
        examples=[{"site": "site"}],
    ),
]
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
    choice_filter: ChoiceFilter = {}


class MultipleChoiceQuestion(QuestionBase, tag="multiple_choice", kw_only=True):
    """Pick any number of options (at least one when required); answered as a list of distinct codes."""

    options: Options
    choice_filter: ChoiceFilter = {}


class RatingGridQuestion(QuestionBase, tag="rating_grid", kw_only=True):
    """Rows rated on one shared scale; answered as {row id: option code}. `required` means every row."""

    rows: Annotated[list[GridRow], Meta(min_length=1, max_length=MAX_GRID_ROWS)]
    options: Annotated[list[Option], Meta(min_length=2, max_length=MAX_OPTIONS)]
    top_box: TopBox = []


class ScaleQuestion(QuestionBase, tag="scale_0_10", kw_only=True):
    """A whole number from 0 to 10 (say what 0 and 10 mean in the label or help)."""


Bound = Annotated[int, Meta(ge=-MAX_NUMBER, le=MAX_NUMBER)] | Annotated[float, Meta(ge=float(-MAX_NUMBER), le=float(MAX_NUMBER))]
Step = Annotated[int, Meta(gt=0, le=MAX_NUMBER)] | Annotated[float, Meta(gt=0.0, le=float(MAX_NUMBER))]


class NumberQuestion(QuestionBase, tag="number", kw_only=True):
    """A number within optional bounds (inclusive, or exclusive with `min_exclusive` / `max_exclusive`);
    whole numbers only when `integer`. With `step` it is a range (an XLSForm `range`): min, max and step
    are all given, and an answer is min plus a whole number of steps; the form shows a row of choices when
    there are at most 21 values."""

    integer: bool = True
    min: Bound | None = None
    max: Bound | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    step: Step | None = None


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


class Note(_Struct, kw_only=True):
    """Text shown among a section's questions (an XLSForm `note`): just before the question `before`, or
    after the last question when `before` is not given. It may show earlier answers (``${id}``) and have
    its own `show_if`. Notes are never answered."""

    id: Name
    label: HelpText
    help: HelpText | None = None
    show_if: ShowIf | None = None
    before: Name | None = None


class Calculation(_Struct, kw_only=True):
    """A value worked out from answers (an XLSForm `calculate`), for skip logic (``bmi >= 30``) and for
    text (``${bmi}``). Never asked and never stored: it is worked out again wherever it is needed."""

    id: Name
    calculation: CalculationText


class Section(_Struct, kw_only=True):
    """A page of the form. Hidden as a whole while its `show_if` is false."""

    id: Name
    title: Text | None = None
    intro: HelpText | None = None
    show_if: ShowIf | None = None
    questions: Annotated[list[Question], Meta(min_length=1, max_length=MAX_QUESTIONS_PER_SECTION)]
    notes: Annotated[list[Note], Meta(max_length=MAX_NOTES_PER_SECTION)] = []


LanguageName = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]


class SurveyDefinition(_Struct, kw_only=True):
    """A whole survey. `languages` lists every language its texts may use; `default_language` is in it.
    `language_names` keeps a language's name as its author wrote it where the code alone does not say it
    (a language babel does not know gets a private-use code, 'qaa' to 'qtz', and its name here)."""

    title: TitleText
    default_language: LanguageCode = "en"
    languages: Annotated[list[LanguageCode], Meta(min_length=1, max_length=MAX_LANGUAGES)] = msgspec.field(
        default_factory=lambda: ["en"]
    )
    language_names: Annotated[dict[LanguageCode, LanguageName], Meta(max_length=MAX_LANGUAGES)] = {}
    sections: Annotated[list[Section], Meta(min_length=1, max_length=MAX_SECTIONS)]
    calculations: Annotated[list[Calculation], Meta(max_length=MAX_CALCULATIONS)] = []

    def questions(self) -> Iterator[Question]:
        """Every question in reading order."""
        for section in self.sections:
            yield from section.questions

    def text(self, text: Mapping[str, str] | None, lang: str) -> str:
        """`text_for` with this survey's default language."""
        return text_for(text, lang, self.default_language)


_PIPE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}")
_PIPE_START = re.compile(r"\$\{")


def piped_names(text: str) -> list[str]:
    """The names a text shows with ``${name}`` (an earlier answer or a calculation), in order; ValueError for
    a ``${`` that does not make a reference."""
    names: list[str] = []
    for start in _PIPE_START.finditer(text):
        m = _PIPE.match(text, start.start())
        if m is None:
            shown = text[start.start() : start.start() + 20]
            raise ValueError(f"'{shown}' is not a reference to an answer: write ${{question_id}}")
        if m.group(1) not in names:
            names.append(m.group(1))
    return names


def fill_pipes(text: str, values: Callable[[str], str]) -> str:
    """The text with each ``${name}`` replaced by `values(name)`."""
    return _PIPE.sub(lambda m: values(m.group(1)), text) if "${" in text else text


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
        self.questions = {q.id: q for q in defn.questions()}
        self.section_of = {q.id: index for index, s in enumerate(defn.sections) for q in s.questions}
        self.calculation_inputs: dict[str, frozenset[str]] = {}  # calculation id -> question ids it reads

    def error(self, field: str, message: str) -> None:
        self.errors.append(ErrorDetail(message, field=field))

    def text(self, field: str, text: Mapping[str, str] | None, section: int | None = None) -> None:
        """Languages of a text, and its ``${...}`` (`section`: where the text is shown; None: no answers yet)."""
        if text is None:
            return
        if self.default not in text:
            self.error(field, f"has no text in the survey's default language '{self.default}'")
        extra = [lang for lang in text if lang not in self.languages]
        if extra:
            self.error(field, f"has text in {', '.join(map(repr, extra))}, which is not one of the survey's languages")
        names: list[str] = []
        for value in text.values():
            try:
                names += [n for n in piped_names(value) if n not in names]
            except ValueError as exc:
                self.error(field, str(exc))
                return
        for name in names:
            problem = self.piped(name, section)
            if problem:
                self.error(field, problem)

    def piped(self, name: str, section: int | None) -> str | None:
        """What is wrong with showing `name`'s answer (or result) in a text on page `section`."""
        if section is None:
            return f"shows ${{{name}}}, but nothing is answered yet where this text is shown"
        if name in self.calculation_inputs:
            late = [q for q in self.calculation_inputs[name] if self.section_of[q] >= section]
            if late:
                return (f"shows ${{{name}}}, a calculation that uses '{late[0]}', which is answered on this page or "
                        "a later one; text can only show answers from earlier pages (sections)")
            return None
        question = self.questions.get(name)
        if question is None:
            return f"shows ${{{name}}}, which is not a question or calculation of this survey"
        if isinstance(question, RatingGridQuestion):
            return f"shows ${{{name}}}, a rating grid: text can show single answers only"
        if self.section_of[name] >= section:
            return (f"shows ${{{name}}}, which is answered on this page or a later one; text can only show answers "
                    "from earlier pages (sections): move the question to an earlier section")
        return None

    def run(self) -> list[ErrorDetail]:
        defn = self.defn
        if len(set(defn.languages)) != len(defn.languages):
            self.error("languages", "lists a language twice")
        if defn.default_language not in defn.languages:
            self.error("default_language", f"'{defn.default_language}' is not one of the survey's languages")
        for code in defn.language_names:
            if code not in self.languages:
                self.error("language_names", f"names '{code}', which is not one of the survey's languages")
        self.text("title", defn.title)
        total = sum(len(s.questions) for s in defn.sections)
        if total > MAX_QUESTIONS:
            self.error("sections", f"hold {total} questions; a survey may have at most {MAX_QUESTIONS}")
        self.ids()
        self.calculations()

        earlier: dict[str, Question] = {}
        dimensions: dict[str, str] = {}
        for s_index, section in enumerate(defn.sections):
            path = f"sections[{s_index}]"
            self.text(f"{path}.title", section.title, s_index)
            self.text(f"{path}.intro", section.intro, s_index)
            if section.show_if is not None:
                self.show_if(f"{path}.show_if", section.show_if, earlier, section.id)
            notes = self.notes_by_anchor(path, section)
            for q_index, question in enumerate(section.questions):
                for n_index, note in notes.get(question.id, []):
                    self.note(f"{path}.notes[{n_index}]", note, earlier, s_index)
                self.question(f"{path}.questions[{q_index}]", question, earlier, dimensions, s_index)
                earlier[question.id] = question
            for n_index, note in notes.get(None, []):
                self.note(f"{path}.notes[{n_index}]", note, earlier, s_index)
        return self.errors

    def ids(self) -> None:
        """Sections, questions, notes and calculations share one namespace (as XLSForm names do), in which
        names differ in more than capitals; a grid row's XLSForm name `<grid>_<row>` and a date question's
        form fields `<id>-day`, `-month`, `-year` must not collide with them either."""
        seen: dict[str, str] = {}
        lower: dict[str, str] = {}
        claims: list[tuple[str, str]] = []
        for s_index, section in enumerate(self.defn.sections):
            path = f"sections[{s_index}]"
            claims.append((section.id, f"{path}.id"))
            claims += [(q.id, f"{path}.questions[{q_index}].id") for q_index, q in enumerate(section.questions)]
            claims += [(n.id, f"{path}.notes[{n_index}].id") for n_index, n in enumerate(section.notes)]
        claims += [(c.id, f"calculations[{c_index}].id") for c_index, c in enumerate(self.defn.calculations)]
        for ident, field in claims:
            self._claim(seen, lower, ident, field)
        for s_index, section in enumerate(self.defn.sections):
            for q_index, question in enumerate(section.questions):
                path = f"sections[{s_index}].questions[{q_index}]"
                if isinstance(question, RatingGridQuestion):
                    for r_index, row in enumerate(question.rows):
                        combined = f"{question.id}_{row.id}"
                        if combined.lower() in lower:
                            self.error(
                                f"{path}.rows[{r_index}].id",
                                f"makes the spreadsheet name '{combined}', which is already the id of "
                                f"{lower[combined.lower()]}; rename the row or that item",
                            )
                elif isinstance(question, DateQuestion):
                    for part in ("day", "month", "year"):
                        clash = lower.get(f"{question.id}-{part}".lower())
                        if clash:
                            self.error(f"{path}.id", f"its form field '{question.id}-{part}' is already the id of "
                                                     f"{clash}; rename one of them")

    def _claim(self, seen: dict[str, str], lower: dict[str, str], ident: str, field: str) -> None:
        where = field.removesuffix(".id")
        if ident in seen:
            self.error(field, f"'{ident}' is already used by {seen[ident]}")
        elif ident.lower() in lower:
            self.error(field, f"'{ident}' differs from the id of {lower[ident.lower()]} only in capitals; ids must "
                              "differ in more than that (exports and spreadsheets ignore case)")
        elif ident in RESERVED_NAMES:
            self.error(field, f"'{ident}' is a name XLSForm keeps for itself; choose another")
        else:
            seen[ident] = where
            lower[ident.lower()] = where

    def calculations(self) -> None:
        """Each calculation parses, reads only questions and other calculations, and does not depend on itself;
        records the questions each one reads (directly or through other calculations)."""
        direct: dict[str, set[str]] = {}
        ids = {c.id for c in self.defn.calculations}
        for c_index, calc in enumerate(self.defn.calculations):
            field = f"calculations[{c_index}].calculation"
            try:
                names = calculation_references(parse_calculation(calc.calculation))
            except CalculationError as exc:
                self.error(field, f"cannot be read: {exc}")
                names = set()
            for name in sorted(names):
                if name not in ids and name not in self.questions:
                    self.error(field, f"refers to '{name}', which is not a question or calculation of this survey")
                elif isinstance(self.questions.get(name), RatingGridQuestion):
                    self.error(field, f"refers to '{name}', a rating grid: a calculation can read single answers only")
            direct[calc.id] = {n for n in names if n in ids or n in self.questions}

        def inputs(cid: str, path: tuple[str, ...]) -> frozenset[str]:
            found: set[str] = set()
            for name in direct[cid]:
                if name in path:
                    raise _Cycle(path[path.index(name):] + (name,))
                found |= inputs(name, path + (name,)) if name in direct else {name}
            return frozenset(found)

        for c_index, calc in enumerate(self.defn.calculations):
            try:
                self.calculation_inputs[calc.id] = inputs(calc.id, (calc.id,))
            except _Cycle as cycle:
                self.error(f"calculations[{c_index}].calculation", "depends on itself: " + " -> ".join(cycle.path))
                self.calculation_inputs[calc.id] = frozenset()

    def notes_by_anchor(self, path: str, section: Section) -> dict[str | None, list[tuple[int, Note]]]:
        positions = {q.id: index for index, q in enumerate(section.questions)}
        out: dict[str | None, list[tuple[int, Note]]] = {}
        last = 0
        for n_index, note in enumerate(section.notes):
            if note.before is not None and note.before not in positions:
                self.error(f"{path}.notes[{n_index}].before", f"'{note.before}' is not a question of this section")
                continue
            position = positions.get(note.before, len(positions))  # type: ignore[arg-type]
            if position < last:
                self.error(f"{path}.notes[{n_index}]", "notes must be listed in the order they are shown")
            last = max(last, position)
            out.setdefault(note.before, []).append((n_index, note))
        first = out.get(section.questions[0].id) if section.questions else None
        if first and first[0][1].show_if is None:
            # Written to XLSForm, it would read back as the section's introduction: one way to say one thing.
            self.error(f"{path}.notes[{first[0][0]}]", "a note shown unconditionally before the section's first "
                                                        "question is its introduction: put the text in intro")
        return out

    def note(self, path: str, note: Note, earlier: dict[str, Question], section: int) -> None:
        self.text(f"{path}.label", note.label, section)
        self.text(f"{path}.help", note.help, section)
        if note.show_if is not None:
            self.show_if(f"{path}.show_if", note.show_if, earlier, note.id)

    def question(self, path: str, q: Question, earlier: dict[str, Question], dimensions: dict[str, str],
                 section: int) -> None:
        self.text(f"{path}.label", q.label, section)
        self.text(f"{path}.help", q.help, section)
        if q.show_if is not None:
            self.show_if(f"{path}.show_if", q.show_if, earlier, q.id)
        if isinstance(q, CHOICE_TYPES):
            codes: set[str] = set()
            for o_index, option in enumerate(q.options):
                if option.code in codes:
                    self.error(f"{path}.options[{o_index}].code", f"'{option.code}' is used by another answer")
                codes.add(option.code)
                self.text(f"{path}.options[{o_index}].label", option.label, section)
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
                    self.text(f"{path}.rows[{r_index}].label", row.label, section)
            else:
                self.choice_filter(path, q, section)
            if isinstance(q, SingleChoiceQuestion) and q.dimension is not None:
                self.dimension(f"{path}.dimension", q.dimension, codes, dimensions)
        elif isinstance(q, NumberQuestion):
            self.number(path, q)
        elif isinstance(q, DateQuestion):
            if q.min is not None and q.max is not None and q.min > q.max:
                self.error(f"{path}.min", "is after max")
        if q.default is not None:
            problem = default_problem(q)
            if problem:
                self.error(f"{path}.default", problem)

    def number(self, path: str, q: NumberQuestion) -> None:
        if q.min is not None and q.max is not None and q.min > q.max:
            self.error(f"{path}.min", "is more than max")
        elif q.min is not None and q.max is not None and q.min == q.max and (q.min_exclusive or q.max_exclusive):
            self.error(f"{path}.min", "leaves no number between min and max")
        if q.integer:
            for name, bound in (("min", q.min), ("max", q.max), ("step", q.step)):
                if bound is not None and bound != int(bound):
                    self.error(f"{path}.{name}", "must be a whole number for a whole-number question")
        for name, flag, bound in (("min_exclusive", q.min_exclusive, q.min), ("max_exclusive", q.max_exclusive, q.max)):
            if flag and bound is None:
                self.error(f"{path}.{name}", f"needs {name[:3]}")
        if q.step is not None:
            if q.min is None or q.max is None:
                self.error(f"{path}.step", "needs both min and max (a range runs from min to max in steps)")
            elif q.min_exclusive or q.max_exclusive:
                self.error(f"{path}.step", "a range includes its ends: min_exclusive and max_exclusive must be false")
            elif q.step > q.max - q.min and q.max > q.min:
                self.error(f"{path}.step", "is larger than the range from min to max")

    def choice_filter(self, path: str, q: SingleChoiceQuestion | MultipleChoiceQuestion, section: int) -> None:
        for column, target in q.choice_filter.items():
            field = f"{path}.choice_filter"
            if column != "name" and column.lower() in RESERVED_CHOICE_COLUMNS:
                self.error(field, f"'{column}' is a column XLSForm reads for itself; name the filter column otherwise")
            source = self.questions.get(target)
            if source is None:
                self.error(field, f"filters by '{target}', which is not a question of this survey")
            elif not isinstance(source, (SingleChoiceQuestion, MultipleChoiceQuestion)):
                self.error(field, f"filters by '{target}', which is not a choice question")
            elif self.section_of[target] >= section:
                self.error(field, f"filters by '{target}', which is answered on this page or a later one; the answers "
                                  "offered can only depend on earlier pages (sections)")
        for o_index, option in enumerate(q.options):
            unused = [c for c in option.filters if c not in q.choice_filter or c == "name"]
            if unused:
                self.error(f"{path}.options[{o_index}].filters",
                           f"has a value for {', '.join(map(repr, unused))}, which the question's choice_filter does "
                           "not compare")

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
        for message in check_expression(expr, earlier, own_id, self.all_ids, self.calculation_inputs):
            self.error(field, message)


class _Cycle(Exception):
    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path


def check_expression(
    expr: skip_logic.Expr, earlier: Mapping[str, Question], own_id: str, all_ids: set[str] | None = None,
    calculations: Mapping[str, frozenset[str]] | None = None,
) -> list[str]:
    """What is wrong with an expression's references, given the questions before it (by id) and the survey's
    calculations (id -> the questions each reads): a calculation may be tested once all it reads is earlier."""
    problems: list[str] = []
    for leaf in skip_logic.references(expr):
        name = leaf.name  # type: ignore[union-attr]
        if calculations and name in calculations:
            late = sorted(q for q in calculations[name] if q not in earlier)
            if late:
                problems.append(f"refers to '{name}', a calculation that uses '{late[0]}', which "
                                + ("is this question" if late[0] == own_id else "comes later")
                                + "; skip logic can only use earlier answers")
            elif isinstance(leaf, Selected) or (isinstance(leaf, Compare) and leaf.op != "=" and leaf.op != "!="
                                                 and isinstance(leaf.value, str)):
                problems.append(f"'{name}' is a calculation: compare it with = or != (text) or with a number")
            continue
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


_PLAIN_NUMBER = re.compile(r"^-?\d{1,15}(\.\d{1,15})?$")


def default_problem(q: Question) -> str | None:
    """What is wrong with a question's `default` (None when it is a possible answer to the question)."""
    value = q.default or ""
    if isinstance(q, RatingGridQuestion):
        return "a rating grid cannot have a default answer"
    if isinstance(q, (SingleChoiceQuestion, MultipleChoiceQuestion)):
        codes = {o.code for o in q.options}
        given = value.split() if isinstance(q, MultipleChoiceQuestion) else [value]
        unknown = [c for c in given if c not in codes]
        if unknown:
            return f"'{unknown[0]}' is not an answer code of this question (codes: {', '.join(o.code for o in q.options)})"
        if len(set(given)) != len(given):
            return "names an answer twice"
        return None
    if isinstance(q, (ScaleQuestion, NumberQuestion)):
        if not _PLAIN_NUMBER.match(value):
            return f"'{value}' is not a number (write it like 12 or 3.5)"
        number = float(value)
        if isinstance(q, ScaleQuestion):
            return None if number.is_integer() and 0 <= number <= 10 else "must be a whole number from 0 to 10"
        if q.integer and not number.is_integer():
            return "must be a whole number"
        low_ok = q.min is None or (number > q.min if q.min_exclusive else number >= q.min)
        high_ok = q.max is None or (number < q.max if q.max_exclusive else number <= q.max)
        if not (low_ok and high_ok):
            return "is outside the question's bounds"
        if q.step is not None and q.min is not None and not _whole((number - q.min) / q.step):
            return "is not one of the range's steps"
        return None
    if isinstance(q, DateQuestion):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return f"'{value}' is not a date written YYYY-MM-DD"
        if (q.min is not None and day < q.min) or (q.max is not None and day > q.max):
            return "is outside the question's dates"
        return None
    if len(value) > q.max_length:
        return f"is longer than the answer may be ({q.max_length:,} characters)"
    if isinstance(q, ShortTextQuestion) and "\n" in value:
        return "must be one line for a short text question"
    return None


def _whole(x: float) -> bool:
    return abs(x - round(x)) < 1e-9


def validate_definition(defn: SurveyDefinition) -> list[ErrorDetail]:
    """Every rule the schema alone cannot express; an empty list means the definition is usable.

    Checks: the default language is declared and every text has it (and no undeclared language); ids of
    sections, questions, options and grid rows are unique; `show_if` parses and refers only to earlier
    questions, with operators and answer codes that fit their type; `top_box` and dimension mappings name
    real answer codes and real population groups, and no dimension is measured twice; number and date
    bounds are in order. Errors come in reading order with paths like ``sections[1].questions[3].options``.
    """
    return _Checker(defn).run()
