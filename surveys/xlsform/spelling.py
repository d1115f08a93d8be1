"""Every way XLSForm lets an author spell a column, a question type or a yes/no, read as pyxform reads them.

pyxform is the reference XLSForm parser, but only a test dependency of this product: its alias tables are
copied here, and `tests/unit/test_survey_xlsform.py` compares each table with the installed pyxform's, so a
spelling pyxform adds shows up as a failing test rather than as a form we refuse.

Headers are read as pyxform reads them (`header_tokens`): a known name or alias stands for itself
(``relevance`` and ``bind::relevant`` are both ``('bind', 'relevant')``; ``caption`` is ``('label',)``),
names are compared in snake_case (``List Name`` is ``list_name``), and ``::`` splits a header into its parts
(``label::English (en)`` is ``('label', 'English (en)')``); a sheet whose headers have no ``::`` at all is
split on single colons, as older forms write ``label:English`` and ``bind:relevant``. Unknown headers keep
their own spelling (a choices column named in a choice filter must match it exactly).
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass

__all__ = [
    "CHOICES_COLUMNS",
    "CONTROL_ALIASES",
    "EXTRA_SURVEY_HEADER_ALIASES",
    "LIST_HEADER_ALIASES",
    "QUESTION_TYPES",
    "SELECT_ALIASES",
    "SETTINGS_COLUMNS",
    "SETTINGS_HEADER_ALIASES",
    "SURVEY_COLUMNS",
    "SURVEY_HEADERS",
    "SURVEY_HEADER_ALIASES",
    "TYPE_ALIASES",
    "YES_NO",
    "TypeSpelling",
    "header_tokens",
    "read_type",
    "yes_no",
]

# ---------------------------------------------------------------------------------------------------------
# pyxform's tables (pyxform/aliases.py), copied
# ---------------------------------------------------------------------------------------------------------

Alias = str | tuple[str, ...]

#: pyxform.aliases.survey_header: survey-sheet headers and what they stand for.
SURVEY_HEADER_ALIASES: dict[str, Alias] = {
    "sms_field": "sms_field", "sms_option": "sms_option", "sms_separator": "sms_separator",
    "sms_allow_media": "sms_allow_media", "sms_date_format": "sms_date_format",
    "sms_datetime_format": "sms_datetime_format", "sms_response": "sms_response",
    "compact_tag": ("instance", "odk:tag"),
    "read_only": ("bind", "readonly"), "readonly": ("bind", "readonly"),
    "relevant": ("bind", "relevant"), "relevance": ("bind", "relevant"),
    "caption": "label",
    "appearance": ("control", "appearance"),
    "required": ("bind", "required"),
    "constraint": ("bind", "constraint"),
    "constraining_message": ("bind", "jr:constraintMsg"), "constraint_message": ("bind", "jr:constraintMsg"),
    "calculation": ("bind", "calculate"), "calculate": ("bind", "calculate"),
    "command": "type",
    "tag": "name", "value": "name",
    "image": ("media", "image"), "big-image": ("media", "big-image"), "audio": ("media", "audio"),
    "video": ("media", "video"),
    "count": ("control", "jr:count"), "repeat_count": ("control", "jr:count"), "jr:count": ("control", "jr:count"),
    "autoplay": ("control", "autoplay"),
    "rows": ("control", "rows"),
    "noapperrorstring": ("bind", "jr:noAppErrorString"), "no_app_error_string": ("bind", "jr:noAppErrorString"),
    "requiredmsg": ("bind", "jr:requiredMsg"), "required_message": ("bind", "jr:requiredMsg"),
    "body": "control",
    "save_to": ("bind", "entities:saveto"),
}  # fmt: skip
#: Our own additions (not pyxform's): message columns as forms in the wild spell them. pyxform reads them as
#: unknown columns; so does this product, but it says so in the import report rather than guessing at them.
EXTRA_SURVEY_HEADER_ALIASES: dict[str, Alias] = {
    "constraint-msg": ("bind", "jr:constraintMsg"), "constraint_msg": ("bind", "jr:constraintMsg"),
    "constraintmsg": ("bind", "jr:constraintMsg"), "required-msg": ("bind", "jr:requiredMsg"),
    "required_msg": ("bind", "jr:requiredMsg"),
}  # fmt: skip
#: What the importer reads the survey sheet's headers with.
SURVEY_HEADERS: dict[str, Alias] = {**SURVEY_HEADER_ALIASES, **EXTRA_SURVEY_HEADER_ALIASES}
#: pyxform.aliases.list_header: choices-sheet headers.
LIST_HEADER_ALIASES: dict[str, Alias] = {
    "caption": "label", "list_name": "list name", "value": "name",
    "image": ("media", "image"), "big-image": ("media", "big-image"), "audio": ("media", "audio"),
    "video": ("media", "video"),
}  # fmt: skip
#: pyxform.aliases.settings_header: settings-sheet headers.
SETTINGS_HEADER_ALIASES: dict[str, Alias] = {
    "form_title": "title", "set_form_title": "title", "form_id": "id_string", "set_form_id": "id_string",
    "prefix": "prefix",
}  # fmt: skip
#: pyxform.aliases.select: the ways to write a select type, before its list name.
SELECT_ALIASES: dict[str, str] = {
    "add select one prompt using": "select one", "add select multiple prompt using": "select all that apply",
    "select all that apply from": "select all that apply", "select one from": "select one", "select1": "select one",
    "select_one": "select one", "select one": "select one", "select_multiple": "select all that apply",
    "select all that apply": "select all that apply", "select_one_external": "select one external",
    "select_one_from_file": "select one", "select_multiple_from_file": "select all that apply",
    "select one from file": "select one", "select multiple from file": "select all that apply",
    "rank": "rank",
}  # fmt: skip
#: pyxform.aliases.control: what follows begin/end.
CONTROL_ALIASES: dict[str, str] = {
    "group": "group", "lgroup": "repeat", "repeat": "repeat", "loop": "loop", "looped group": "repeat",
}  # fmt: skip
#: pyxform.aliases._type_alias_map: types that are other types.
TYPE_ALIASES: dict[str, str] = {
    "imei": "deviceid", "image": "photo", "add image prompt": "photo", "add photo prompt": "photo",
    "add audio prompt": "audio", "add video prompt": "video", "add file prompt": "file",
}  # fmt: skip
#: pyxform.aliases.yes_no.
YES_NO: dict[str, bool] = {
    "yes": True, "Yes": True, "YES": True, "true": True, "True": True, "TRUE": True, "true()": True,
    "no": False, "No": False, "NO": False, "false": False, "False": False, "FALSE": False, "false()": False,
}  # fmt: skip

#: Headers pyxform reads as they are (the slots of its MultipleChoiceQuestion, Option and Survey).
SURVEY_COLUMNS = frozenset({
    "actions", "bind", "choice_filter", "choices", "control", "default", "extra_data", "guidance_hint", "hint",
    "instance", "itemset", "label", "list_name", "media", "name", "parameters", "parent", "query", "sms_field",
    "trigger", "type",
})  # fmt: skip
CHOICES_COLUMNS = frozenset({"extra_data", "label", "media", "name", "parent", "sms_option"})
SETTINGS_COLUMNS = frozenset({
    "add_none_option", "allow_choice_duplicates", "attribute", "auto_delete", "auto_send", "bind", "children",
    "choices", "clean_text_values", "client_editable", "control", "default_language", "delimiter",
    "entity_version", "extra_data", "file_name", "flat", "hint", "id_string", "instance", "instance_name",
    "instance_xmlns", "label", "media", "name", "namespaces", "omit_instanceID", "parent", "prefix", "public_key",
    "setgeopoint_by_triggering_ref", "setvalues_by_triggering_ref", "sms_allow_media", "sms_date_format",
    "sms_datetime_format", "sms_field", "sms_keyword", "sms_response", "sms_separator", "style", "submission_url",
    "title", "type", "version",
})  # fmt: skip

# ---------------------------------------------------------------------------------------------------------
# Question types: every type pyxform knows (question_type_dictionary.py), and what this product makes of it
# ---------------------------------------------------------------------------------------------------------

_KINDS: dict[str, tuple[str, ...]] = {
    "integer": ("integer", "int", "q int", "add integer prompt"),
    "decimal": ("decimal", "q decimal", "add decimal prompt"),
    "text": ("text", "string", "q string", "add text prompt"),
    "phone number": ("phone number",),
    "date": ("date", "q date", "add date prompt"),
    "range": ("range",),
    "note": ("note", "q note", "add note prompt"),
    "calculate": ("calculate", "q calculate", "add calculate prompt"),
    "hidden": ("hidden",),
    "bounded integer": ("percentage", "number of days in last month", "number of days in last six months",
                        "number of days in last year"),
    "metadata": ("start", "end", "today", "deviceid", "device id", "get device id", "imei", "uri:deviceid",
                 "subscriberid", "subscriber id", "get subscriber id", "uri:subscriberid", "simserial", "sim id",
                 "get sim id", "uri:simserial", "phonenumber", "get phone number", "uri:phonenumber", "username",
                 "uri:username", "email", "uri:email", "start time", "end time", "get start time", "get end time",
                 "get today", "audit"),
    "location": ("geopoint", "location", "gps", "q geopoint", "q location", "add location prompt", "geoshape",
                 "geotrace", "q geoshape", "q geotrace", "start-geopoint", "background-geopoint", "osm"),
    "image": ("image", "photo", "q picture", "q image", "add image prompt", "add photo prompt"),
    "audio": ("audio", "q audio", "add audio prompt", "background-audio"),
    "video": ("video", "q video", "add video prompt"),
    "file": ("file", "add file prompt"),
    "barcode": ("barcode", "q barcode", "add barcode prompt"),
    "time": ("time",),
    "datetime": ("datetime", "dateTime", "date time", "q date time", "q dateTime", "add date time prompt",
                 "add dateTime prompt"),
    "acknowledge": ("acknowledge", "q acknowledge", "add acknowledge prompt"),
    "trigger": ("trigger",),
    "external": ("xml-external", "csv-external", "select one external"),
    "select without a list": ("q select", "q select1", "select one", "select all that apply", "select one using",
                              "select multiple using", "select multiple from", "select all that apply from",
                              "add select one prompt using", "add select multiple prompt using"),
    "rank": ("rank",),
}  # fmt: skip
#: Type name (as pyxform spells it) -> what this product makes of it.
QUESTION_TYPES: dict[str, str] = {name: kind for kind, names in _KINDS.items() for name in names}
#: The bounds and hint pyxform gives its ready-made whole-number types.
BOUNDED_INTEGERS: dict[str, tuple[int, int, str | None]] = {
    "percentage": (0, 100, None),
    "number of days in last month": (0, 31, "Enter a number 0-31."),
    "number of days in last six months": (0, 183, "Enter a number 0-183."),
    "number of days in last year": (0, 365, "Enter a number 0-365."),
}
_BY_LOWER = {name.lower(): name for name in QUESTION_TYPES}


@dataclass(frozen=True)
class TypeSpelling:
    """A type cell read: `kind` is one of 'select_one', 'select_multiple', 'begin', 'end', a kind of
    `QUESTION_TYPES` ('integer', 'note', 'metadata', 'location'...), or 'unknown'; `name` the type as pyxform
    names it; `argument` a select's list name or what a begin/end opens ('group', 'repeat', 'loop')."""

    kind: str
    name: str
    argument: str = ""
    or_other: bool = False


_SELECT = re.compile(
    r"^(?P<command>" + "|".join(sorted(map(re.escape, SELECT_ALIASES), key=len, reverse=True)) + r") (?P<list>\S+)"
    r"(?: (?P<other>or specify other|or_other|or other))?$",
    re.I,
)
_CONTROL = re.compile(
    r"^(?P<which>begin|end)[\s_](?P<what>" + "|".join(sorted(CONTROL_ALIASES, key=len, reverse=True))
    + r"|kobomatrix)(?: (?:over )?(?P<list>\S+))?$",
    re.I,
)


def read_type(cell: str) -> TypeSpelling:
    """A type cell as pyxform reads it, whatever its capitals and spacing (the list name keeps its own)."""
    text = " ".join(cell.split())
    m = _SELECT.match(text)
    if m:
        command = SELECT_ALIASES[m.group("command").lower()]
        if command == "select one external":
            return TypeSpelling("external", m.group("command").lower(), m.group("list"))
        if m.group("command").lower().endswith("from_file") or m.group("command").lower().endswith("from file"):
            return TypeSpelling("choices from a file", m.group("command").lower(), m.group("list"))
        kind = {"select one": "select_one", "select all that apply": "select_multiple", "rank": "rank"}[command]
        return TypeSpelling(kind, m.group("command").lower(), m.group("list"), bool(m.group("other")))
    m = _CONTROL.match(text)
    if m:
        what = m.group("what").lower()
        return TypeSpelling(m.group("which").lower(), f"{m.group('which').lower()} {what}",
                            "kobomatrix" if what == "kobomatrix" else CONTROL_ALIASES[what])
    name = _BY_LOWER.get(text.lower())
    if name is None:
        first = text.split(" ", 1)[0].lower()
        if first in ("select_one", "select_multiple"):  # KoBo: the list in select_from_list_name
            return TypeSpelling(first, first)
        return TypeSpelling("unknown", text)
    name = TYPE_ALIASES.get(name, name)
    return TypeSpelling(QUESTION_TYPES[name], name)


def yes_no(text: str) -> bool | None:
    """pyxform's yes/no (yes, TRUE, true()...; also 1/0 and y/n, which XPath reads the same), None otherwise."""
    found = YES_NO.get(text.strip())
    if found is not None:
        return found
    return {"1": True, "y": True, "0": False, "n": False, "": False}.get(text.strip().lower())


# ---------------------------------------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------------------------------------


def _snake(text: str) -> str:
    return "_".join(text.split()).lower()


def header_tokens(header: str, *, double_colon: bool, aliases: Mapping[str, Alias],
                  columns: Container[str]) -> tuple[str, ...]:
    """A header as pyxform reads it (`pyxform.parsing.sheet_headers.process_header`): its first part
    de-aliased and in snake_case, the rest (a language, a bind attribute) as written."""
    if header in columns and header not in aliases:
        return (header,)
    normalised = _snake(header)
    if normalised in columns and normalised not in aliases:
        return (normalised,)
    if double_colon or "::" in header:
        tokens = tuple(t.strip() for t in header.split("::"))
    else:
        tokens = tuple(t.strip() for t in header.split(":"))
        if "jr" in tokens:  # jr:count and jr:constraintMsg written with single colons
            at = tokens.index("jr")
            tokens = (*tokens[:at], f"jr:{tokens[at + 1]}" if at + 1 < len(tokens) else "jr", *tokens[at + 2 :])
    first = _snake(tokens[0])
    alias = aliases.get(first)
    if alias is not None:
        return (*((alias,) if isinstance(alias, str) else alias), *tokens[1:])
    if first in columns:
        return (first, *tokens[1:])
    return (header,) if len(tokens) == 1 else tokens
