"""E-mail notification of the press office, with retries (the outbox).

The citizen's confirmation never waits for the mail server: the form only
stores the request. `deliver_pending` (run by the `bot outbox` worker that
`bot run` starts) sends every request not yet notified and records failures,
so a request is retried with back-off and never lost. Whatever goes wrong with
one request (a mail server error, a value that cannot be put in a header) is
recorded on that request; it never stops the worker or the other requests.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa

from bot.db import utcnow
from bot.visitors import parsing, store

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _line(value: object) -> str:
    """A value as one line of the mail body (no forged extra lines)."""
    return _LINE_BREAKS.sub(" ", str(value)).strip()


def _reply_to(email: object) -> str | None:
    """The citizen's address for Reply-To, only when it is exactly one valid address."""
    if not isinstance(email, str) or _LINE_BREAKS.search(email):
        return None
    return email if parsing.find_email(email) == email else None


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    sender: str
    recipient: str | None  # the press office's address: configuration, no default

    @classmethod
    def from_env(cls) -> MailSettings:
        env = os.environ
        return cls(
            host=env.get("BOT_SMTP_HOST", "localhost"),
            port=int(env.get("BOT_SMTP_PORT", "25")),
            username=env.get("BOT_SMTP_USER") or None,
            password=env.get("BOT_SMTP_PASSWORD") or None,
            starttls=env.get("BOT_SMTP_STARTTLS", "0") == "1",
            sender=env.get("BOT_MAIL_FROM", "chat-assistent@localhost"),
            recipient=env.get("BOT_PRESS_OFFICE_EMAIL") or None,
        )


def compose(request: dict, settings: MailSettings) -> EmailMessage:
    """The notification: the request's fields only (no transcript, no metadata)."""
    message = EmailMessage()
    message["Subject"] = f"Anfrage einer Besuchergruppe {request['reference']}"
    message["From"] = settings.sender
    message["To"] = settings.recipient or ""
    reply_to = _reply_to(request.get("email"))
    if reply_to:
        message["Reply-To"] = reply_to
    date_from, date_to = request["date_from"], request["date_to"]
    period = (
        f"{date_from:%d.%m.%Y}"
        if date_from == date_to
        else f"{date_from:%d.%m.%Y} bis {date_to:%d.%m.%Y}"
    )
    lines = [
        "Über den Chat-Assistenten ist eine Anfrage einer Besuchergruppe eingegangen.",
        "",
        f"Referenz:        {request['reference']}",
        f"Gruppe:          {_line(request['group_name'])}",
        f"Ansprechperson:  {_line(request['contact_name'])}",
        f"E-Mail:          {_line(request.get('email') or '-')}",
        f"Telefon:         {_line(request.get('phone') or '-')}",
        f"Personenzahl:    {request['group_size']}",
        f"Wunschtermin:    {period} (Angabe: „{_line(request['date_text'])}“)",
        f"Themen:          {_line(request.get('topics') or '-')}",
        f"Einwilligung:    {request['consent_at']:%d.%m.%Y %H:%M} UTC",
        "",
        "Die Person wurde informiert, dass sich die Pressestelle meldet; ein Termin wurde",
        "nicht zugesagt.",
    ]
    message.set_content("\n".join(lines))
    return message


def send(message: EmailMessage, settings: MailSettings, timeout: float = 15) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


def deliver_pending(engine: sa.engine.Engine, settings: MailSettings) -> tuple[int, int]:
    """Send what is due; returns (sent, failed)."""
    if not settings.recipient:
        logger.warning("BOT_PRESS_OFFICE_EMAIL is not set: visitor requests stay unsent")
        return 0, 0
    sent = failed = 0
    for request in store.due_for_notification(engine, utcnow(), MAX_ATTEMPTS):
        try:
            send(compose(request, settings), settings)
        except Exception as exc:  # noqa: BLE001 - one bad request must not stop the others
            failed += 1
            store.mark_failed(engine, request["id"], utcnow(), f"{type(exc).__name__}: {exc}")
            logger.warning("notification of %s failed: %s", request["reference"], exc)
        else:
            sent += 1
            store.mark_notified(engine, request["id"], utcnow())
    return sent, failed


def run_outbox(engine: sa.engine.Engine, interval: float, once: bool = False) -> None:
    settings = MailSettings.from_env()
    while True:
        try:
            deliver_pending(engine, settings)
        except sa.exc.SQLAlchemyError:
            logger.exception("outbox: database unavailable, retrying later")
        except Exception:  # noqa: BLE001 - the worker keeps running; the next pass retries
            logger.exception("outbox: pass failed, retrying later")
        if once:
            return
        time.sleep(interval)
