"""The register's own rules, pure: who counts as a member on a day, and the rules that span fields, shared by
the API, the importer (which adds row numbers) and the sign-up page."""

from __future__ import annotations

from datetime import date
from typing import Any

from prg.errors import ErrorDetail


def in_group_on(member: dict[str, Any], day: date) -> bool:
    """Whether a member (a row with status, joined_on, left_on) belonged to the group on `day`: active or since
    left, joined by then and not left by then, a date not recorded counting as yes. Invited people are not
    members yet."""
    return (member["status"] in ("active", "left")
            and (member["joined_on"] is None or member["joined_on"] <= day)
            and (member["left_on"] is None or member["left_on"] > day))


def rule_errors(values: dict[str, Any], today: date | None = None) -> list[ErrorDetail]:
    """Rules that span fields, shared by the API and the importer (which adds row numbers)."""
    today = today or date.today()
    errors = []
    if values.get("birth_year") is not None and values["birth_year"] > today.year:
        errors.append(ErrorDetail("is in the future", field="birth_year"))
    if values.get("joined_on") and values["joined_on"] > today:
        errors.append(ErrorDetail("is in the future", field="joined_on"))
    if values.get("left_on"):
        if values.get("status") != "left":
            errors.append(ErrorDetail("a leaving date needs status 'left'", field="left_on"))
        if values.get("joined_on") and values["left_on"] < values["joined_on"]:
            errors.append(ErrorDetail("is before the joining date", field="left_on"))
    needs = {"email": "email", "phone": "phone", "sms": "phone", "post": "address"}
    method = values.get("preferred_contact")
    if method in needs and not values.get(needs[method]):
        errors.append(ErrorDetail(f"preferred contact is {method} but no {needs[method]} is given", field="preferred_contact"))
    return errors
