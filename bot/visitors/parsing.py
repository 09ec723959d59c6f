"""Understanding the answers of the visitor-group form.

Each parser takes the user's free text and returns a value or a `Problem` that
names what was wrong (its text, in every mode, is an answer in bot/knowledge.yml).
Dates are parsed with `dateparser`, e-mail addresses with `email-validator`,
phone numbers with `phonenumbers`; the code here only finds candidates in a
message and turns periods ("Mitte April") into date ranges.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import dateparser
import phonenumbers
from email_validator import EmailNotValidError, validate_email


@dataclass(frozen=True)
class Problem:
    """A value that was given but is not usable. `code` names the answer in
    bot/knowledge.yml that explains it; `params` fill its template."""

    code: str
    params: tuple[tuple[str, object], ...] = ()

    def text(self, mode: str = "de") -> str:
        from bot.knowledge import default_knowledge

        return default_knowledge().answer(self.code, mode, **dict(self.params)).text

    @property
    def message(self) -> str:
        """The explanation in standard German."""
        return self.text()


@dataclass(frozen=True)
class DateRange:
    start: dt.date
    end: dt.date
    text: str

    def describe(self) -> str:
        if self.start == self.end:
            return self.start.strftime("%d.%m.%Y")
        return f"{self.start:%d.%m.%Y} bis {self.end:%d.%m.%Y}"


# --- e-mail and phone -------------------------------------------------------------
_EMAIL_CANDIDATE = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")


def find_email(text: str) -> str | Problem | None:
    """The first e-mail address in `text`, normalised; a Problem if one looks broken."""
    candidates = [c.rstrip(".!?") for c in _EMAIL_CANDIDATE.findall(text)]
    for candidate in candidates:
        try:
            return validate_email(candidate, check_deliverability=False).normalized
        except EmailNotValidError:
            continue
    if candidates or "@" in text:
        return Problem("problem_email")
    return None


def find_phone(text: str) -> str | Problem | None:
    """The first valid German (or international) phone number, in international format."""
    for match in phonenumbers.PhoneNumberMatcher(text, "DE", leniency=phonenumbers.Leniency.VALID):
        return phonenumbers.format_number(
            match.number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    text_without_email = _EMAIL_CANDIDATE.sub(" ", text)
    digits = re.sub(r"\D", "", text_without_email)
    if len(digits) >= 6 and not find_date_like(text_without_email):
        return Problem("problem_phone")
    return None


def find_date_like(text: str) -> bool:
    return bool(re.search(r"\b\d{1,2}\.\d{1,2}\.", text))


# --- group size -------------------------------------------------------------------
_PEOPLE = (
    r"(personen|leute|leuten|schüler\w*|schueler\w*|teilnehm\w*|kinder\w*|jugendliche\w*"
    r"|mitglieder\w*|senior\w*|erwachsene\w*|gäste|gaeste|mann|köpfe|koepfe|people|persons)"
)
_SIZE_WITH_NOUN = re.compile(rf"\b(\d{{1,4}})\s*(?:-\s*\d+\s*)?{_PEOPLE}\b", re.IGNORECASE)
_SIZE_WE_ARE = re.compile(
    r"\bwir sind\s+(?:ca\.?\s*|etwa\s+|ungefähr\s+|rund\s+)?(\d{1,4})\b", re.I
)
_SIZE_ALONE = re.compile(r"^\D{0,30}?(-?\d{1,6}(?:[.,]\d+)?)\D{0,30}$")


def find_group_size(text: str, requested: bool, minimum: int, maximum: int) -> int | Problem | None:
    """The number of people. A bare number counts only when the form asked for it."""
    match = _SIZE_WITH_NOUN.search(text) or _SIZE_WE_ARE.search(text)
    raw = match.group(1) if match else None
    if raw is None and requested:
        alone = _SIZE_ALONE.match(text.strip())
        if alone:
            raw = alone.group(1)
        elif re.search(r"\d", text) is None:
            return Problem("problem_size_number")
    if raw is None:
        return None
    if not re.fullmatch(r"\d+", raw):
        return Problem("problem_size_number")
    size = int(raw)
    if not minimum <= size <= maximum:
        return Problem("problem_size_range", (("minimum", minimum), ("maximum", maximum)))
    return size


# --- dates ------------------------------------------------------------------------
_NUMERIC_FORMATS = ["%d.%m.", "%d.%m", "%d.%m.%Y", "%d.%m.%y"]
_FILLER = re.compile(
    r"\b(am|den|im|gerne|gern|irgendwann|vormittags|nachmittags|morgens|abends|so|etwa|ca"
    r"|ungefähr|ungefaehr|bitte|vielleicht|wir würden|wir wuerden|wenn möglich|möglichst"
    r"|wäre|waere|gut|super|ab|für|fuer|uns|passt|der|die|das)\b\.?",
    re.IGNORECASE,
)
_PERIOD = re.compile(r"\b(anfang|mitte|ende|early|mid|late|end of)[\s-]+(\w+)", re.IGNORECASE)
_PERIOD_PART = {"early": "anfang", "mid": "mitte", "late": "ende", "end of": "ende"}
_NEXT_WEEKDAY = re.compile(
    r"\b(nächste[nmrs]?|naechste[nmrs]?|kommende[nmrs]?|übernächste[nmrs]?|uebernaechste[nmrs]?"
    r"|next|coming)"
    r"\s+(montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.IGNORECASE,
)
_UMLAUTS = {"ae": "ä", "oe": "ö", "ue": "ü"}
_MONTHS_FOLDED = {"maerz": "märz"}
_MONTHS = (
    "januar|jänner|februar|märz|maerz|april|mai|juni|juli|august|september|oktober"
    "|november|dezember|january|february|march|may|june|july|october|december"
)
_MONTH_ONLY = re.compile(rf"^(?:{_MONTHS})$", re.IGNORECASE)
_DATE_HINT = re.compile(
    rf"\b\d{{1,2}}\.\d{{1,2}}\.|\b(anfang|mitte|ende|im)\s+(?:{_MONTHS})\b"
    rf"|\b\d{{1,2}}\.?\s+(?:{_MONTHS})\b",
    re.IGNORECASE,
)


def mentions_date(text: str) -> bool:
    """Whether a message not asked about the date still clearly names one."""
    return bool(_DATE_HINT.search(text))


def _settings(today: dt.date) -> dict:
    return {
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
        "RELATIVE_BASE": dt.datetime.combine(today, dt.time(12, 0)),
    }


def _parse_one(text: str, today: dt.date) -> dt.date | None:
    parsed = dateparser.parse(
        text, languages=["de", "en"], settings=_settings(today), date_formats=_NUMERIC_FORMATS
    )
    if parsed is None:
        return None
    day = parsed.date()
    has_year = re.search(r"\d{4}|\.\d{2}\s*$", text) or re.search(r"\bjahr", text, re.I)
    if day < today and not has_year and re.search(r"\d", text):
        # "15.3." without a year means the next 15 March.
        try:
            day = day.replace(year=day.year + 1)
        except ValueError:
            return None
    return day


def _month_range(month_text: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    if not _MONTH_ONLY.match(month_text):
        return None
    month_text = _MONTHS_FOLDED.get(month_text.lower(), month_text)
    parsed = dateparser.parse(month_text, languages=["de", "en"], settings=_settings(today))
    if parsed is None:
        return None
    first = parsed.date().replace(day=1)
    if first < today.replace(day=1):
        first = first.replace(year=first.year + 1)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def parse_visit_date(text: str, today: dt.date) -> DateRange | Problem | None:
    """A day or a period in the future, from German (or English) expressions."""
    original = " ".join(text.split())
    if not original:
        return None
    if re.fullmatch(r"[\d\s.,-]+", original) and not re.search(r"\d\.\d", original):
        return Problem("problem_date_format")
    period = _PERIOD.search(original)
    if period:
        span = _month_range(period.group(2), today)
        if span:
            first, last = span
            part = period.group(1).lower()
            part = _PERIOD_PART.get(part, part)
            start, end = {
                "anfang": (first, first.replace(day=10)),
                "mitte": (first.replace(day=11), first.replace(day=20)),
                "ende": (first.replace(day=21), last),
            }[part]
            return _future(
                DateRange(max(start, today + dt.timedelta(days=1)), end, original), today
            )
    weekday = _NEXT_WEEKDAY.search(original)
    if weekday:
        day = _parse_one(weekday.group(2), today)
        if day:
            if weekday.group(1).lower().startswith(("über", "ueber")):
                day += dt.timedelta(days=7)
            return _future(DateRange(day, day, original), today)
    cleaned = " ".join(_FILLER.sub(" ", original).split())
    for word, umlaut in _UMLAUTS.items():  # dateparser wants "nächsten", "März"
        cleaned = re.sub(rf"(?<=[a-zA-Z]){word}(?=[a-z])", umlaut, cleaned)
    for candidate in (cleaned, original):
        if not candidate:
            continue
        month = _month_range(candidate, today)
        if month:
            return _future(DateRange(month[0], month[1], original), today)
        day = _parse_one(candidate, today)
        if day:
            return _future(DateRange(day, day, original), today)
    numeric = re.search(r"\b\d{1,2}\.\d{1,2}\.(\d{2,4})?", original)
    if numeric:
        day = _parse_one(numeric.group(0), today)
        if day is None:
            return Problem("problem_date_invalid", (("value", numeric.group(0)),))
        return _future(DateRange(day, day, original), today)
    return None


def _future(span: DateRange, today: dt.date) -> DateRange | Problem:
    if span.end <= today:
        return Problem("problem_date_past")
    return span


# --- names and free text ----------------------------------------------------------
_NAME_INTRO = re.compile(
    r"\b(?:mein name ist|ich heiße|ich heisse|ich bin|name:|ansprechpartner(?:in)?(?: ist)?:?"
    r"|my name is|contact person(?: is)?:?"
    r"|kontaktperson(?: ist)?:?|kontakt:?)\s+(?:frau |herr )?"
    r"([A-ZÄÖÜ][\wäöüß'-]+(?:\s+[A-ZÄÖÜ][\wäöüß'-]+){0,3})",
    re.IGNORECASE,
)


def find_contact_name(text: str, requested: bool) -> str | None:
    match = _NAME_INTRO.search(text)
    if match:
        return match.group(1).strip()
    if requested:
        return clean_free_text(text, max_len=120)
    return None


def clean_free_text(text: str, max_len: int = 300) -> str | None:
    """Trimmed single-line text, or None when nothing usable is left."""
    value = " ".join(text.split()).strip(" .,;:!")
    if not value or value.startswith("/") or not re.search(r"\w", value):
        return None
    return value[:max_len]
