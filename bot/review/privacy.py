"""Masking of e-mail addresses and phone numbers for list views."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A run of digits with the usual separators; masked when it has 6+ digits, so
# dates ("12.05.2024" uses dots), "110" and years stay readable.
PHONE = re.compile(r"(?<![\w@])(?:\+|00)?\(?\d[\d \t/()\-]{4,}\d(?![\w@])")


def _mask_phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return "[Telefonnummer]" if digits >= 6 else match.group(0)


def mask(text: str | None) -> str:
    """`text` with e-mail addresses and phone numbers replaced by placeholders."""
    if not text:
        return ""
    text = EMAIL.sub("[E-Mail]", text)
    return PHONE.sub(_mask_phone, text)


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
