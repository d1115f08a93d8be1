"""Every setting of the application, read once from the environment.

Each field of `Settings` is an environment variable named `PRG_<FIELD>` in upper case, and each is
documented in docs/configuration.md (a test fails when one is not). Nothing else reads os.environ.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    # Where the data live: `sqlite:///relative/or/absolute/path.sqlite3` or `postgresql://user@host/db`.
    database_url: str = "sqlite:///var/prg.sqlite3"
    # SQLite waits this long (seconds) for another writer's lock before failing a query.
    sqlite_busy_timeout: float = 10.0
    # Largest number of PostgreSQL connections one server process keeps open.
    pg_pool_max: int = 10
    # Session cookie `Secure` flag: `auto` sets it when the request came over HTTPS.
    cookie_secure: str = "auto"
    # A signed-in browser session ends after this many hours without a request.
    session_idle_hours: float = 8.0
    # ... and after this many hours whatever happens.
    session_max_hours: float = 24.0
    # Failed sign-ins for one e-mail address within the window before sign-in is refused for the window.
    login_max_failures: int = 5
    login_window_minutes: int = 15
    # Largest upload accepted, in bytes (checked before a file is parsed).
    max_upload_bytes: int = 20_000_000
    # Largest number of data rows one register import may hold.
    max_import_rows: int = 20_000
    # Disclosure control: a group's member count from 1 to this minus one is flagged `suppressed` in the
    # representativeness check and never quoted in its findings. 10 is the national survey's "fewer than 10"
    # rule and covers NHS Digital's 1-7 rule; one threshold for every number the product publishes.
    suppression_threshold: int = 10
    # Address and port for `prg serve`.
    host: str = "127.0.0.1"
    port: int = 8000
    # Survey answers one client address may send to one open-link survey per hour (0: no limit).
    survey_submissions_per_hour: int = 60
    # Sends of the public PRG sign-up form (/join/{ods}) one client address may make per practice per hour.
    join_requests_per_hour: int = 20
    # Redis shared by every server process for the public forms' rate limits (empty: each process counts alone).
    rate_limit_redis_url: str = field(default="", repr=False)
    # Key that signs the public forms' anti-forgery tokens. Empty: a random key per process (set one when
    # several server processes share the load, or a form served by one is refused by another).
    form_secret: str = field(default="", repr=False)
    # Where to report a vulnerability in this deployment (a mailto: or https: URI), published at
    # /.well-known/security.txt (RFC 9116); empty: that page answers 404.
    security_contact: str = ""
    # Browser origins allowed to call the API from another site (comma-separated); empty keeps CORS closed.
    cors_origins: str = ""
    # Application log level (DEBUG, INFO, WARNING, ERROR). Logs never carry patients' personal data.
    log_level: str = "INFO"
    # The public address patients reach the service at (e.g. https://prg.example.nhs.uk), used in printed
    # QR codes and links; empty: the address the request came in on.
    public_base_url: str = ""
    # Most data rows in one patient list uploaded for a targeted mailing (the list is never stored).
    mailing_max_rows: int = 100_000
    # Patients younger than this on the mailing date are never chosen for a recruitment mailing.
    mailing_min_age: int = 16
    # Outgoing e-mail (virtual PRG consultations) through an SMTP server; empty host: no e-mail is sent.
    smtp_host: str = ""
    smtp_port: int = 587
    # none | starttls | ssl (implicit TLS, usually port 465).
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    # The From: address of consultation mails, e.g. "Riverside Surgery <prg@riverside.example.nhs.uk>".
    mail_from: str = ""
    # Most consultation mails sent per minute (per practice); a send stops at the limit and resumes later.
    mail_per_minute: int = 30
    # Seconds to wait for the SMTP server before giving up on a mail (it stays pending).
    smtp_timeout: float = 30.0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _coerce(value: str, kind: type, name: str) -> object:
    try:
        if kind is bool:
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return kind(value)
    except ValueError as exc:
        raise ValueError(f"setting PRG_{name.upper()}={value!r} is not a valid {kind.__name__}") from exc


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = environ.get(f"PRG_{f.name.upper()}")
        if raw is not None:
            values[f.name] = _coerce(raw, type(f.default), f.name)
    settings = Settings(**values)
    if settings.cookie_secure not in {"auto", "true", "false"}:
        raise ValueError("setting PRG_COOKIE_SECURE must be auto, true or false")
    if settings.smtp_security not in {"none", "starttls", "ssl"}:
        raise ValueError("setting PRG_SMTP_SECURITY must be none, starttls or ssl")
    if settings.mail_per_minute < 1:
        raise ValueError("setting PRG_MAIL_PER_MINUTE must be 1 or more")
    if settings.suppression_threshold < 0:
        raise ValueError("setting PRG_SUPPRESSION_THRESHOLD must be 0 or more")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
