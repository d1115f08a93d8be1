"""Outgoing e-mail through an SMTP server (stdlib smtplib, run in a worker thread by the caller).

One `SmtpSession` holds one connection for a batch; `send` returns only when the server has accepted the
message (or raises). Failures are sorted into permanent (the server refused this message or recipient:
5xx) and temporary (anything else: connection trouble, 4xx), so the caller can mark a delivery failed or
leave it pending for the next run. Error texts carry the reply code only, never an address.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from prg.settings import Settings


class MailNotConfigured(Exception):
    pass


class PermanentFailure(Exception):
    """The server refused this message for good (5xx): do not try it again."""


class TemporaryFailure(Exception):
    """Try again later: the server or the network is not taking mail now."""


def build_message(settings: Settings, *, to: str, name: str, subject: str, body: str,
                  unsubscribe_url: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = formataddr((name, to))
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2].strip("> ") or None)
    # Mail clients show an "unsubscribe" button from this header (RFC 2369 / RFC 8058).
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message.set_content(body)
    return message


class SmtpSession:
    """An SMTP connection configured from settings. Blocking: call from a worker thread."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host or not settings.mail_from:
            raise MailNotConfigured("E-mail is not set up: set PRG_SMTP_HOST and PRG_MAIL_FROM.")
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        s = self.settings
        try:
            if s.smtp_security == "ssl":
                self.smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout,
                                             context=ssl.create_default_context())
            else:
                self.smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
                if s.smtp_security == "starttls":
                    self.smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                self.smtp.login(s.smtp_username, s.smtp_password)
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise TemporaryFailure(f"the SMTP server refused the sign-in ({exc.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryFailure(f"cannot reach the SMTP server ({type(exc).__name__})") from None

    def send(self, message: EmailMessage) -> None:
        assert self.smtp is not None, "open() first"
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"recipient refused ({code})") from None
        except smtplib.SMTPResponseException as exc:
            raise (PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure)(
                f"message refused ({exc.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"connection lost ({type(exc).__name__})") from None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None
