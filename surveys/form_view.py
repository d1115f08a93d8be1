"""What the public form shows on a page beyond the definition's own words, worked out from the answers so far.

Earlier answers shown in text (``You said ${rating}: why?``, an answer's label rather than its code, in the
reader's language), the answers a cascading choice offers given earlier ones, the notes between questions
(with their own conditions), defaults filled in on a page's first showing, and a range as a row of choices.
Pure: a `FormView` is built from the compiled survey, the answers the form carries, the reader's language and
the page's question ids; the form's template asks it for each text and list.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal

from surveys.answers import CompiledSurvey, choice_labels
from surveys.definition import (
    MultipleChoiceQuestion,
    Note,
    NumberQuestion,
    Option,
    Question,
    Section,
    SingleChoiceQuestion,
    fill_pipes,
)

__all__ = ["MAX_RANGE_CHOICES", "FormView"]

MAX_RANGE_CHOICES = 21  # a range with more values than this is a number box rather than a row of choices


class FormView:
    """One page of the form for one reader. `prefill`: fill in defaults (a page's first showing, not a page
    shown again with the patient's own corrections)."""

    def __init__(self, compiled: CompiledSurvey, answers: Mapping[str, Any], lang: str, *, prefill: bool,
                 page: set[str]) -> None:
        self.compiled = compiled
        self.definition = compiled.definition
        self.lang = lang
        self.answers = answers
        self.prefill = prefill
        self.page = page
        self.cleaned = compiled.cleaned(answers, lang)
        self.labels = choice_labels(self.definition, lang)
        self.values: Mapping[str, Any] = (compiled.calculator.values(self.cleaned, self.labels)
                                          if compiled.calculator else self.cleaned)
        self.questions = {q.id: q for q in self.definition.questions()}

    # -- text ------------------------------------------------------------------------------------------

    def text(self, text: Mapping[str, str] | None) -> str:
        """A text in the reader's language, earlier answers filled in for its ``${id}``."""
        return fill_pipes(self.definition.text(text, self.lang), self.shown_value)

    def shown_value(self, name: str) -> str:
        """An answer (or a calculation's result) as the patient reads it; '' when there is none."""
        value = self.values.get(name)
        if value is None or value == "":
            return ""
        question = self.questions.get(name)
        if isinstance(question, (SingleChoiceQuestion, MultipleChoiceQuestion)):
            codes = value if isinstance(value, list) else [value]
            return ", ".join(self.labels(name, str(code)) for code in codes)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (int, float)):
            return self._number(value)
        if isinstance(value, str) and question is not None and question.__struct_config__.tag == "date":
            try:
                return format_date(date.fromisoformat(value), format="long", locale=self._locale())
            except ValueError:
                return value
        return str(value)

    def _locale(self) -> str:
        return self.lang.replace("-", "_") if not self.lang.startswith("q") else self.definition.default_language

    def _number(self, value: int | float) -> str:
        try:
            return format_decimal(value, locale=self._locale())
        except (ValueError, LookupError):
            return str(value)

    # -- what a question offers ------------------------------------------------------------------------

    def options(self, question: Question) -> list[Option]:
        """A choice question's answers, narrowed by its choice filter to those that fit earlier answers."""
        options = list(getattr(question, "options", []))
        offered = self.compiled.offered(question.id, self.cleaned)
        if offered is None:
            return options
        keep = set(offered)
        return [o for o in options if o.code in keep]

    def answer(self, question: Question) -> Any:
        """The answer to show in a question's field: the patient's own, else (on a first showing) its default."""
        given = self.answers.get(question.id)
        if given is not None or not self.prefill or question.default is None:
            return given
        if isinstance(question, MultipleChoiceQuestion):
            return question.default.split()
        return question.default

    def range_values(self, question: Question) -> list[str] | None:
        """A range's values, from its lowest to its highest, when there are few enough for a row of choices."""
        if not isinstance(question, NumberQuestion) or question.step is None:
            return None
        low, high, step = question.min, question.max, question.step
        assert low is not None and high is not None
        count = int((high - low) / step + 1e-9) + 1
        if count > MAX_RANGE_CHOICES:
            return None
        return [_plain_number(low + i * step) for i in range(count)]

    # -- notes -----------------------------------------------------------------------------------------

    def notes(self, section: Section, before: str | None) -> list[Note]:
        """The section's notes shown just before question `before` (None: after its last question). A note
        whose condition reads an answer on this page is shown, as such questions are: the page cannot react."""
        shown = []
        for note in section.notes:
            if note.before != before:
                continue
            condition = self.compiled.conditions.get(note.id)
            if condition is None or not self.page.isdisjoint(condition[1]) or condition[0](self.cleaned):
                shown.append(note)
        return shown


def _plain_number(value: float) -> str:
    """A range value as the form posts it: 3, 2.5 (never 3.0, never 2.5000000001)."""
    rounded = round(value, 9)
    return str(int(rounded)) if float(rounded).is_integer() else repr(rounded)
