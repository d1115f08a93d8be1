"""HTTP for a survey's Friends and Family Test monthly counts and return.

Mounted under the practice router: /api/practices/{ods_code}/surveys/{survey_id}/fft. Which question
counts and how is `surveys.fft_service`'s (and `surveys.fft`'s, for the counting rules and the CSV layout).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import QueryParameter

from prg.errors import ErrorDetail, InvalidInput
from prg.web import CurrentPractice, RecordId
from surveys.fft import write_monthly_return
from surveys.fft_service import fft_counts

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
# Optional in the signature only so that a missing month gets the same problem document (naming `month`)
# as a malformed one; Litestar's own "missing parameter" error names no field.
Month = Annotated[str | None, QueryParameter(pattern=MONTH_PATTERN, description="A calendar month, YYYY-MM (required).")]


def _required(month: str | None) -> str:
    if month is None:
        raise InvalidInput("Say which month, as ?month=YYYY-MM.", [ErrorDetail("required", field="month")])
    return month


class FFTController(Controller):
    """Friends and Family Test counts and monthly return for one survey."""

    path = "/surveys/{survey_id:int}/fft"
    tags = ["surveys"]

    @get("/")
    async def counts(self, practice: CurrentPractice, survey_id: RecordId, month: Month = None) -> dict[str, Any]:
        """Counts per FFT answer and per collection mode for `month` (by the day responses arrived), with
        totals and the shares answering the top two and bottom two categories, excluding "Don't know"."""
        return await fft_counts(practice, survey_id, _required(month))

    @get("/return.csv", media_type="text/csv")
    async def monthly_return(self, practice: CurrentPractice, survey_id: RecordId, month: Month = None
                             ) -> Response[str]:
        """The month's return as CSV: one row per collection mode and a total row (layout in docs of
        `surveys.fft`; it approximates, not reproduces, the national submission)."""
        counts = await fft_counts(practice, survey_id, _required(month))
        name = f"{practice.ods_code}-fft-{counts['month']}.csv"
        return Response(write_monthly_return(counts, practice.ods_code), media_type="text/csv",
                        headers={"content-disposition": f'attachment; filename="{name}"'})
