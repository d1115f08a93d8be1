"""The `prg` command: serve, migrate, demo, practice add, user add, token create, consultation send,
mailing, export ...

Each command imports the features it drives inside its own function: the whole application takes seconds to
import (pandas, scipy, openpyxl, every feature), and `prg --help`, `prg migrate` or `prg token create` should
not wait for it. Only the database, the settings and the errors are imported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import TypeVar

import click
import msgspec

from prg import db
from prg.errors import DomainError, NotFound
from prg.piccolo_conf import engine_for_url
from prg.settings import get_settings

T = TypeVar("T")


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run one piece of async work against the configured database, migrated first (quietly, so
    commands such as `token create` print only their result)."""

    async def main() -> T:
        await db.prepare(db.current_engine())
        with contextlib.redirect_stdout(io.StringIO()):
            await db.migrate()
        return await work()

    return asyncio.run(main())


def run_as_manager(ods: str, work: Callable[..., Awaitable[T]]) -> T:
    """Run `work(access)` for the practice as its manager: whoever holds the command line holds the
    database too."""
    from prg.accounts.services import PracticeAccess
    from prg.accounts.tables import Practice

    async def as_manager() -> T:
        row = await Practice.select(Practice.id, Practice.ods_code, Practice.name).where(
            Practice.ods_code == ods.upper()).first()
        if row is None:
            raise NotFound(f"No practice {ods.upper()}.")
        return await work(PracticeAccess(row["id"], row["ods_code"], row["name"], "manager"))

    return run(as_manager)


def _fail_on_domain_error(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            details = "; ".join(f"{e.field or e.column or ''} {e.message}".strip() for e in exc.errors)
            raise click.ClickException(exc.detail + (f" ({details})" if details else "")) from exc
        except msgspec.ValidationError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group()
def main() -> None:
    """The patient participation toolkit for GP practices."""
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    db.use_engine(engine_for_url(settings.database_url, busy_timeout=settings.sqlite_busy_timeout))


@main.command()
def migrate() -> None:
    """Apply pending database migrations."""
    asyncio.run(db.migrate())
    click.echo("Database is up to date.")


@main.command()
@click.option("--host", default=None, help="Address to listen on (default PRG_HOST).")
@click.option("--port", default=None, type=int, help="Port (default PRG_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Apply pending migrations, then serve the application."""
    import uvicorn

    from prg.app import create_app

    settings = get_settings()
    asyncio.run(db.migrate())
    # The access log is off: URLs can carry search terms, which may be patients' names.
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port, access_log=False,
                proxy_headers=True, log_level=settings.log_level.lower())


@main.command()
@click.option("--serve/--no-serve", "then_serve", default=False, help="Start the server afterwards.")
@click.pass_context
@_fail_on_domain_error
def demo(ctx: click.Context, then_serve: bool) -> None:
    """Create the demo practice (Y90001) with a PRG, and print the manager's sign-in."""
    from prg.demo import load_demo

    email, password = run(load_demo)
    settings = get_settings()
    click.echo("\nDemo practice Y90001 is ready.")
    click.echo(f"  Sign in as:  {email}")
    click.echo(f"  Password:    {password}")
    click.echo(f"  API:         http://{settings.host}:{settings.port}/api/practices/Y90001/members")
    click.echo(f"  API docs:    http://{settings.host}:{settings.port}/schema")
    click.echo(f"  Survey:      http://{settings.host}:{settings.port}/api/practices/Y90001/surveys "
               "(last winter's, with 300 responses)")
    click.echo(f"  Sign-up:     http://{settings.host}:{settings.port}/join/Y90001\n")
    if then_serve:
        ctx.invoke(serve)


@main.group()
def practice() -> None:
    """Practices."""


@practice.command("add")
@click.option("--ods", required=True, help="ODS code, e.g. A81001.")
@click.option("--name", required=True)
@click.option("--postcode", default="")
@click.option("--list-size", type=int, default=None)
@_fail_on_domain_error
def practice_add(ods: str, name: str, postcode: str, list_size: int | None) -> None:
    """Add a practice."""
    from prg.accounts import schemas, services

    data = msgspec.convert({"ods_code": ods, "name": name, "postcode": postcode, "list_size": list_size},
                           schemas.PracticeIn)
    created = run(lambda: services.create_practice(data, actor=None))
    click.echo(f"Added practice {created.ods_code} {created.name}.")


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("add")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="")
@click.option("--admin", is_flag=True, help="A host administrator (creates practices and accounts).")
@click.option("--practice", "ods", default=None, help="Give a role at this practice (ODS code).")
@click.option("--role", type=click.Choice(["viewer", "staff", "manager"]), default="staff")
@_fail_on_domain_error
def user_add(email: str, password: str, display_name: str, admin: bool, ods: str | None, role: str) -> None:
    """Add a staff account, optionally with a role at a practice."""
    from prg.accounts import schemas, services

    data = msgspec.convert({"email": email, "password": password, "display_name": display_name, "is_admin": admin},
                           schemas.UserIn)

    async def work() -> None:
        await services.create_user(data, actor=None)
        if ods:
            await services.grant_role(await services.practice_id_for(ods), email, role, None)

    run(work)
    click.echo(f"Added {email}" + (f" as {role} at {ods.upper()}" if ods else "") + ".")


@main.group()
def token() -> None:
    """Personal API tokens."""


@token.command("create")
@click.option("--email", required=True, help="The account the token acts for.")
@click.option("--name", required=True, help="What the token is for, e.g. 'monthly export script'.")
@_fail_on_domain_error
def token_create(email: str, name: str) -> None:
    """Create an API token and print it (only this once)."""
    from prg.accounts import services
    from prg.accounts.tables import StaffUser

    async def work():
        row = await StaffUser.select(StaffUser.id).where(StaffUser.email == email.lower()).first()
        if row is None:
            raise NotFound(f"No account for {email}.")
        return await services.create_token(row["id"], name, actor=None)

    created = run(work)
    click.echo(created.secret)


@main.group()
def consultation() -> None:
    """Virtual PRG consultations."""


@consultation.command("send")
@click.option("--practice", "ods", required=True, help="ODS code of the practice.")
@click.option("--year", required=True, help="Scheme year, e.g. 2026-27.")
@click.option("--id", "consultation_id", required=True, type=int, help="The consultation's id.")
@click.option("--wait/--once", default=True, help="Keep going (waiting out the per-minute limit) until none is pending.")
@_fail_on_domain_error
def consultation_send(ods: str, year: str, consultation_id: int, wait: bool) -> None:
    """E-mail a consultation to the members due it; safe to stop and run again (nobody gets it twice).
    Links use PRG_PUBLIC_BASE_URL."""
    from prg.des import consultations

    if not get_settings().public_base_url:
        raise click.ClickException("Set PRG_PUBLIC_BASE_URL: the links in the mails are built from it.")

    while True:
        result = run_as_manager(ods, lambda access: consultations.send(access, year, consultation_id, None))
        click.echo(f"sent {result.sent_now}, failed {result.failed_now}, pending {result.pending}, "
                   f"sent in all {result.sent_total}")
        if not wait or result.pending == 0:
            break
        time.sleep(result.retry_after_seconds)


@main.command()
@click.option("--practice", "ods", required=True, help="ODS code of the practice.")
@click.option("--list", "list_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The patient list export (CSV or XLSX). Read, used and not stored.")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="Where to write the ZIP.")
@click.option("--groups", default=None, help="Comma-separated target groups (default: the recruitment targets' gaps).")
@click.option("--template", default="recruitment_core", show_default=True)
@click.option("--channel", type=click.Choice(["letter", "email", "sms"]), default="letter", show_default=True)
@click.option("--sample", "sample_per_group", type=int, default=None, help="At most this many per group, at random.")
@click.option("--seed", default=None, help="The random sample's seed (to repeat a choice).")
@click.option("--contact-name", default="", help="Who signs the letters.")
@click.option("--phone", default="", help="The practice's phone number, printed on the letters.")
@_fail_on_domain_error
def mailing(ods: str, list_file: str, out_file: str, groups: str | None, template: str, channel: str,
            sample_per_group: int | None, seed: str | None, contact_name: str, phone: str) -> None:
    """A targeted recruitment mailing, as `POST /recruitment/mailing` makes it, recorded as a campaign."""
    from prg.recruitment import services as recruitment

    settings = get_settings()
    options = recruitment.parse_options({"groups": groups, "template": template, "channel": channel,
                                         "sample_per_group": sample_per_group, "seed": seed,
                                         "contact_name": contact_name, "phone": phone})
    path = Path(list_file)
    base_url = settings.public_base_url or f"http://{settings.host}:{settings.port}"  # printed in QR codes
    result = run_as_manager(ods, lambda access: recruitment.make_mailing(
        access, path.read_bytes(), path.name, options, None, base_url))
    Path(out_file).write_bytes(result.content)
    click.echo(f"Wrote {out_file} (campaign {result.campaign_id}).")


@main.group()
def export() -> None:
    """Files to download: Excel tools, results, reports, returns (each written to --out)."""


def _export(ods: str, out_file: str, make) -> None:
    """Run `make(access)` for the practice as its manager and write the file it returns to `out_file`."""
    file = run_as_manager(ods, make)
    Path(out_file).write_bytes(file.content)
    click.echo(f"Wrote {out_file} ({len(file.content):,} bytes; download name {file.filename}).")


_practice_option = click.option("--practice", "ods", required=True, help="ODS code of the practice.")
_out_option = click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False),
                           help="Where to write the file.")


@export.command("collation")
@_practice_option
@_out_option
@_fail_on_domain_error
def export_collation(ods: str, out_file: str) -> None:
    """The PRG collation workbook (members, practice profile, live comparison)."""
    from exports import services

    _export(ods, out_file, lambda access: services.collation_workbook(access, None))


@export.command("results")
@_practice_option
@_out_option
@click.option("--survey", "survey_id", required=True, type=int)
@click.option("--publish", is_flag=True, help="Suppress small numbers and leave out row-level data.")
@click.option("--weight", is_flag=True, help="Weight to the practice population.")
@_fail_on_domain_error
def export_results(ods: str, out_file: str, survey_id: int, publish: bool, weight: bool) -> None:
    """A survey's results workbook."""
    from exports import services

    _export(ods, out_file, lambda access: services.results_workbook(access, survey_id, publish=publish, weight=weight))


@export.command("paper-entry")
@_practice_option
@_out_option
@click.option("--survey", "survey_id", required=True, type=int)
@_fail_on_domain_error
def export_paper_entry(ods: str, out_file: str, survey_id: int) -> None:
    """The paper-entry workbook of a survey's published version."""
    from exports import services

    _export(ods, out_file, lambda access: services.paper_workbook(access, survey_id))


@export.command("report")
@_practice_option
@_out_option
@click.option("--year", required=True, help="Scheme year, e.g. 2012-13.")
@click.option("--format", "fmt", type=click.Choice(["html", "docx"]), default="html", show_default=True)
@click.option("--survey", "survey_id", type=int, default=None, help="The survey to report (default: the year's).")
@_fail_on_domain_error
def export_report(ods: str, out_file: str, year: str, fmt: str, survey_id: int | None) -> None:
    """The Local Patient Participation Report."""
    from exports import services

    _export(ods, out_file, lambda access: services.participation_report(access, year, fmt, survey_id))


@export.command("achievement")
@_practice_option
@_out_option
@click.option("--year", required=True, help="Scheme year, e.g. 2012-13.")
@_fail_on_domain_error
def export_achievement(ods: str, out_file: str, year: str) -> None:
    """The achievement report workbook for the commissioner."""
    from exports import services

    _export(ods, out_file, lambda access: services.achievement_workbook(access, year))


@export.command("fft")
@_practice_option
@_out_option
@click.option("--survey", "survey_id", required=True, type=int)
@click.option("--month", required=True, help="YYYY-MM")
@_fail_on_domain_error
def export_fft(ods: str, out_file: str, survey_id: int, month: str) -> None:
    """The Friends and Family Test monthly return (CSV)."""
    from exports import services

    _export(ods, out_file, lambda access: services.fft_return(access, survey_id, month))
