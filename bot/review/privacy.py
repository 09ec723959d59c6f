"""Masking of e-mail addresses and phone numbers for what the review app shows.

Both searches take time linear in the text: the e-mail pattern may only start
where a run of address characters starts (before, it retried every position
of a long word: 20,000 characters without "@" took 1.3 s), and phone numbers
are found as maximal runs of digits and separators, checked in Python.
Callers mask only what they show (`preview`, `shown`), never a whole 1 MB
message for a 140-character list cell.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A run of digits with the usual separators, optionally with + / 00 and "(".
_PHONE_RUN = re.compile(r"(?:\+|00)?\(?\d[\d \t/()\-]*")
_SEPARATORS = " \t/()-"
PHONE_DIGITS = 6  # fewer digits: dates ("12.05.2024" uses dots), "110", years stay readable

PREVIEW_CHARS = 200  # list cells show at most 140
SHOWN_CHARS = 10_000  # a transcript message longer than this is cut for display


def _is_word(char: str) -> bool:
    return bool(char) and (char.isalnum() or char in "_@")


def _mask_phones(text: str) -> str:
    parts: list[str] = []
    last = 0
    for match in _PHONE_RUN.finditer(text):
        start = match.start()
        run = match.group(0).rstrip(_SEPARATORS)
        end = start + len(run)
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if _is_word(before) or _is_word(after):
            continue  # part of a word, an address or an id
        if sum(ch.isdigit() for ch in run) >= PHONE_DIGITS and len(run) >= 6:
            parts += [text[last:start], "[Telefonnummer]"]
            last = end
    parts.append(text[last:])
    return "".join(parts)


def mask(text: str | None) -> str:
    """`text` with e-mail addresses and phone numbers replaced by placeholders."""
    if not text:
        return ""
    return _mask_phones(EMAIL.sub("[E-Mail]", text))


def preview(text: str | None, limit: int = PREVIEW_CHARS) -> str:
    """The masked start of `text` for a list cell (only the part that is shown)."""
    if not text:
        return ""
    return mask(text[:limit])


def shown(text: str | None, limit: int = SHOWN_CHARS) -> str:
    """`text` cut to what a page shows, with a note on what was left out."""
    if not text or len(text) <= limit:
        return text or ""
    return f"{text[:limit]} … [gekürzt: {len(text):,} Zeichen insgesamt]".replace(",", ".")


def mask_email(value: str | None) -> str:
    if not value:
        return ""
    local, _, domain = value.partition("@")
    return f"{local[:1]}…@{domain}" if domain else "[E-Mail]"


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    digits = [ch for ch in value if ch.isdigit()]
    return "…" + "".join(digits[-2:]) if len(digits) > 2 else "…"
