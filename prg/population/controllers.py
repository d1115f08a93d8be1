"""HTTP for population profiles, mounted under /api/practices/{ods_code}/population."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, PathParameter, QueryParameter

from prg.errors import FileTooLarge
from prg.population import schemas, services
from prg.population.readers.nhs_digital import MAX_UNCOMPRESSED_BYTES
from prg.settings import get_settings
from prg.uploads import shown_name
from prg.web import CurrentPractice

ProfileIdParam = Annotated[int, PathParameter(ge=1, le=2_147_483_647, description="A profile's id")]
#: National NHS Digital CSVs are about 60 MB each unzipped; the two single-year files may come in one request.
NHS_REQUEST_MAX_BYTES = services.MAX_NHS_FILES * MAX_UNCOMPRESSED_BYTES + 1_000_000


@dataclass
class NhsDigitalUpload:
    file: list[UploadFile]


@dataclass
class EthnicityUpload:
    file: UploadFile
    extract_date: date | None = None


@dataclass
class CustomUpload:
    file: UploadFile
    key: schemas.CustomKey | None = None
    name: schemas.Line(100, 1) | None = None
    extract_date: date | None = None


async def _read(upload: UploadFile, limit: int) -> tuple[bytes, str]:
    """The upload's bytes, refused before reading past `limit`; the name without any folder."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"{shown_name(upload.filename)} is larger than {limit // 1_000_000} MB.")
    return data, shown_name(upload.filename or "upload.csv")


class PopulationController(Controller):
    path = "/population"
    tags = ["population"]

    @get("/")
    async def list_profiles(
        self, practice: CurrentPractice,
        dimension: Annotated[str | None, QueryParameter(
            max_length=60, pattern=r"^(age_sex|ethnicity|custom:[a-z][a-z0-9_]{0,49})$",
            description="Only profiles of this dimension: age_sex, ethnicity or custom:<key>")] = None,
    ) -> schemas.ProfileList:
        """Every profile imported, newest extract first, with its source file name and extract date."""
        return await services.list_profiles(practice, dimension)

    @get("/{profile_id:int}")
    async def get_profile(self, practice: CurrentPractice, profile_id: ProfileIdParam) -> schemas.ProfileOut:
        """One profile with its counts (age rows: `sex`, `age`; ethnicity and custom rows: `group`)."""
        return await services.get_profile(practice, profile_id)

    @post("/")
    async def create_profile(self, request: Request, practice: CurrentPractice,
                             data: JSONBody[schemas.ProfileIn]) -> schemas.ProfileOut:
        """A new profile from counts given directly (audited as `population.import`). `dimension` is
        `age_sex` (rows give `sex` and `age`; say `age_detail`: `single_year` 0..94 and `95+`, or `five_year`
        `0-4` ... `95+`), `ethnicity` (rows give `group`: a code A..S, Z, 99 or a label) or `custom` (give
        `key`, the member characteristic compared, and rows with `group` names)."""
        return await services.create_profile(practice, data, request.auth)

    @put("/{profile_id:int}")
    async def replace_profile(self, request: Request, practice: CurrentPractice, profile_id: ProfileIdParam,
                              data: JSONBody[schemas.ProfileIn]) -> schemas.ProfileOut:
        """Correct a profile: its counts and details are replaced (same body as POST; the dimension cannot
        change). Audited as `population.replace` with the previous total."""
        return await services.replace_profile(practice, profile_id, data, request.auth)

    @delete("/{profile_id:int}", opt={"role": "manager"})
    async def delete_profile(self, request: Request, practice: CurrentPractice, profile_id: ProfileIdParam) -> None:
        """Remove a profile imported by mistake (audited)."""
        await services.delete_profile(practice, profile_id, request.auth)

    @post("/imports/nhs-digital", request_max_body_size=NHS_REQUEST_MAX_BYTES)
    async def import_nhs_digital(
        self, request: Request, practice: CurrentPractice,
        data: Annotated[NhsDigitalUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.ProfileOut:
        """Import NHS Digital "Patients Registered at a GP Practice" files, as published, plain or zipped:
        either the 5-year file `gp-reg-pat-prac-quin-age.csv` alone, or the two single-year-of-age files
        `gp-reg-pat-prac-sing-age-female.csv` and `-male.csv` together, both in the multipart field `file`
        (`curl -F file=@...female.csv -F file=@...male.csv`). Only the practice's own rows are kept; the SEX
        and age rows must add up to the ALL rows. National files are accepted (up to 200 MB each once
        unzipped). All or nothing; errors name the file's row and column."""
        files = [await _read(upload, MAX_UNCOMPRESSED_BYTES) for upload in data.file]
        return await services.import_nhs_digital(practice, files, request.auth)

    @post("/imports/ethnicity")
    async def import_ethnicity(
        self, request: Request, practice: CurrentPractice,
        data: Annotated[EthnicityUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.ProfileOut:
        """Import an ethnicity report from the clinical system (CSV or XLSX in the field `file`): a code
        and/or label column (NHS Data Dictionary codes A..S, Z = not stated, 99 or blank = not known) and a
        count column ('Number of patients', 'Count'...). A 'Total' row is checked. `extract_date` (the date
        the report was run; today if left out). All or nothing; errors name the row and column."""
        content, filename = await _read(data.file, get_settings().max_upload_bytes)
        return await services.import_ethnicity(practice, content, filename, data.extract_date, request.auth)

    @post("/imports/custom")
    async def import_custom(
        self, request: Request, practice: CurrentPractice,
        data: Annotated[CustomUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> schemas.ProfileOut:
        """Import a practice-defined dimension (carers, working status...): a CSV or XLSX of group, count rows
        (a header is optional; a named group header such as 'Carer status' names the dimension) or JSON
        (`{"name": ..., "groups": {"Yes": 120, ...}}` or a plain object of group -> count), in the field
        `file`. `key` is the member characteristic the groups are matched against (members' values are
        compared with the group names ignoring case); it defaults to the dimension's name in snake case.
        `name` overrides the dimension's name; `extract_date` defaults to today."""
        content, filename = await _read(data.file, get_settings().max_upload_bytes)
        return await services.import_custom(practice, content, filename, key=data.key, label=data.name,
                                            extract_date=data.extract_date, actor=request.auth)
