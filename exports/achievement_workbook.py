"""The achievement report workbook a practice sends its commissioner for a scheme year.

- **Achievement**: each component of the year (from `prg.des.services.year_guide`): achieved or not, its
  weight, and the evidence with dates.
- **Payment**: the scheme's rate per patient (data, or the practice's override) times the list size at the
  scheme's reference date, as live formulas: maximum = rate x list size, and the expected payment = the
  sum of the weights of achieved components x maximum (the weights are marked where unconfirmed).
- **Template 2014-15** (that year only): practice % against PPG % by sex, by the template's fixed age bands
  (<16, 17-24 ... 75+) and by ethnic group, as the standard reporting template asked.
Money is shown in pounds (en-GB); dates as dates.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import xlsxwriter

from exports.safe import SafeSheet


@dataclass
class TemplateTable:
    title: str
    rows: list[tuple[str, float | None, float | None]]  # label, practice share, PPG share (None = suppressed)


def write_achievement_workbook(guide: Any, *, practice_name: str, template: Sequence[TemplateTable] = (),
                               template_notes: Sequence[str] = ()) -> bytes:
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"strings_to_formulas": False, "strings_to_numbers": False,
                                        "strings_to_urls": False})
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "bottom": 1, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    day = book.add_format({"num_format": "dd/mm/yyyy", "valign": "top"})
    money = book.add_format({"num_format": "£#,##0.00"})
    rate = book.add_format({"num_format": "£0.00"})
    pct = book.add_format({"num_format": "0.0%", "valign": "top"})
    note = book.add_format({"italic": True, "font_color": "#555555", "text_wrap": True})

    sheet = SafeSheet(book.add_worksheet("Achievement"))
    sheet.ws.set_column(0, 0, 60)
    sheet.ws.set_column(1, 3, 12)
    sheet.ws.set_column(4, 4, 12)
    sheet.ws.set_column(5, 5, 80)
    sheet.text(0, 0, f"{practice_name} ({guide.practice}): {guide.title}", title)
    sheet.text(1, 0, "Scheme year")
    sheet.value(1, 1, guide.starts_on, day)
    sheet.value(1, 2, guide.ends_on, day)
    sheet.text(2, 0, f"{guide.done} of {guide.total} components achieved, on the evidence recorded by")
    sheet.value(2, 1, guide.today, day)
    sheet.header(4, ["Component", "Achieved", "Status", "Weight", "Evidence date", "Evidence"], head)
    r = 5
    weight_rows = []
    for c in guide.components:
        sheet.text(r, 0, c.title, wrap)
        sheet.text(r, 1, "Yes" if c.status == "done" else "No")
        sheet.text(r, 2, c.status.replace("_", " "))
        sheet.number(r, 3, c.weight, pct)
        weight_rows.append((r, c))
        if not c.evidence:
            sheet.text(r, 5, "No evidence recorded" + (f". Next step: {c.next_step}" if c.next_step else ""), wrap)
            r += 1
            continue
        for e in c.evidence:
            if e.date:
                sheet.value(r, 4, e.date, day)
            sheet.text(r, 5, e.description, wrap)
            r += 1
    if any(not c.weight_confirmed for c in guide.components):
        sheet.text(r + 1, 0, "Component weights marked unconfirmed in the scheme data are assumptions: check them "
                             "with the commissioner.", note)

    payment = guide.payment
    pay = SafeSheet(book.add_worksheet("Payment"))
    pay.ws.set_column(0, 0, 48)
    pay.ws.set_column(1, 1, 16)
    pay.ws.set_column(2, 2, 60)
    pay.text(0, 0, f"Payment for {guide.title}", title)
    pay.text(2, 0, "Rate per registered patient")
    pay.number(2, 1, payment.rate_per_patient, rate)
    pay.text(2, 2, f"{payment.rate_source}; {'confirmed' if payment.rate_confirmed else 'not confirmed'}", note)
    pay.text(3, 0, "List size")
    pay.number(3, 1, payment.list_size)
    pay.text(3, 2, payment.list_size_source, note)
    pay.text(4, 0, "List size date")
    if payment.list_size_date:
        pay.value(4, 1, payment.list_size_date, day)
    pay.text(5, 0, "Maximum payment (rate x list size)")
    maximum = payment.maximum
    pay.formula(5, 1, "=IF(OR(B3=\"\",B4=\"\"),0,B3*B4)", money, cached=maximum or 0)
    achieved = " + ".join(f"IF(Achievement!B{row + 1}=\"Yes\",Achievement!D{row + 1},0)" for row, _ in weight_rows)
    pay.text(6, 0, "Share earned (weights of achieved components)")
    share = sum((c.weight or 0) for _, c in weight_rows if c.status == "done")
    pay.formula(6, 1, f"={achieved or 0}", pct, cached=share)
    pay.text(7, 0, "Expected payment on the evidence recorded")
    pay.formula(7, 1, "=B6*B7", money, cached=(maximum or 0) * share)
    pay.text(9, 0, payment.note or "", note)
    if not payment.payable:
        pay.text(10, 0, "This year carries no payment.", note)

    if template:
        t = SafeSheet(book.add_worksheet("Template 2014-15"))
        t.ws.set_column(0, 0, 34)
        t.ws.set_column(1, 2, 14)
        t.text(0, 0, "Standard reporting template: practice population and PPG profile", title)
        r = 2
        for table in template:
            t.header(r, [table.title, "Practice %", "PPG %"], head)
            for label, practice_share, ppg_share in table.rows:
                r += 1
                t.text(r, 0, label)
                t.number(r, 1, practice_share, pct)
                if ppg_share is None:
                    t.text(r, 2, "suppressed")
                else:
                    t.number(r, 2, ppg_share, pct)
            r += 2
        for line in template_notes:
            t.text(r, 0, line, note)
            r += 1
    book.close()
    return output.getvalue()
