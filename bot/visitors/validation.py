"""The last check before a visitor request is stored: every slot again.

The form validates each answer as it comes (actions/visitor_form.py), but the
submit action must not trust the slots it is handed: they arrive over HTTP
from the Rasa server, and a forged or corrupted tracker must not store a
request that skipped consent, validation or the length limits. So every field
is parsed again with the same parsers; a value that does not come back
unchanged is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bot.visitors import parsing
from bot.visitors.store import VisitorRequest

NONE_TEXT = "keine Angabe"
MAX_GROUP_NAME = 200
MAX_CONTACT_NAME = 120
MAX_DATE_TEXT = 300
MAX_TOPICS = 300
MAX_YEARS_AHEAD = 3


def _free_text(value: Any, max_len: int) -> str | None:
    """`value` as one trimmed line, or None when it is no text or too long."""
    if not isinstance(value, str) or len(value) > max_len:
        return None
    return parsing.clean_free_text(value, max_len=max_len)


def check_request(
    slots: Mapping[str, Any],
    consent_at: dt.datetime,
    today: dt.date,
    min_size: int,
    max_size: int,
) -> VisitorRequest | list[str]:
    """The request the slots describe, or the names of the slots that fail."""
    bad: list[str] = []
    if slots.get("consent") is not True:
        bad.append("consent")
    if slots.get("confirmed") is not True:
        bad.append("confirmed")

    group_name = _free_text(slots.get("group_name"), MAX_GROUP_NAME)
    contact_name = _free_text(slots.get("contact_name"), MAX_CONTACT_NAME)
    if group_name is None:
        bad.append("group_name")
    if contact_name is None:
        bad.append("contact_name")

    email, phone = slots.get("email"), slots.get("phone")
    if email is not None and (not isinstance(email, str) or parsing.find_email(email) != email):
        bad.append("email")
    if phone is not None and (not isinstance(phone, str) or parsing.find_phone(phone) != phone):
        bad.append("phone")
    if not email and not phone:
        bad.append("contact")

    size = slots.get("group_size")
    if isinstance(size, float) and size.is_integer():
        size = int(size)
    # ASCII digits only: str.isdigit() also accepts „²⁰“, which int() refuses.
    if isinstance(size, str) and size.isascii() and size.isdigit() and len(size) < 6:
        size = int(size)
    if isinstance(size, bool) or not isinstance(size, int) or not min_size <= size <= max_size:
        bad.append("group_size")

    date_from = date_to = None
    try:
        date_from = dt.date.fromisoformat(str(slots.get("date_from")))
        date_to = dt.date.fromisoformat(str(slots.get("date_to")))
    except ValueError:
        bad.append("date")
    else:
        latest = today + dt.timedelta(days=366 * MAX_YEARS_AHEAD)
        if not today <= date_to <= latest or date_from > date_to:
            bad.append("date")
    date_text = _free_text(slots.get("visit_date"), MAX_DATE_TEXT)
    if date_text is None:
        bad.append("visit_date")

    topics = slots.get("topics")
    if topics in (None, NONE_TEXT):
        topics = None
    else:
        topics = _free_text(topics, MAX_TOPICS)
        if topics is None:
            bad.append("topics")

    if bad:
        return bad
    assert group_name and contact_name and date_text and date_from and date_to
    return VisitorRequest(
        group_name=group_name,
        contact_name=contact_name,
        email=email or None,
        phone=phone or None,
        group_size=int(size),  # type: ignore[arg-type]
        date_from=date_from,
        date_to=date_to,
        date_text=date_text,
        topics=topics,
        consent_at=consent_at,
    )
