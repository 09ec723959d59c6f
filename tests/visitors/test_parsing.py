"""Validators of the visitor-group form against good and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.visitors.parsing import (
    DateRange,
    Problem,
    find_contact_name,
    find_email,
    find_group_size,
    find_phone,
    parse_visit_date,
)

TODAY = dt.date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("nächsten Dienstag", "2026-12-01", "2026-12-01"),
        ("naechsten dienstag", "2026-12-01", "2026-12-01"),
        ("übernächsten Freitag", "2026-12-04", "2026-12-04"),
        ("15.3.", "2027-03-15", "2027-03-15"),
        ("am 15.3.", "2027-03-15", "2027-03-15"),
        ("12.05.", "2027-05-12", "2027-05-12"),
        ("Mitte April", "2027-04-11", "2027-04-20"),
        ("Ende Mai", "2027-05-21", "2027-05-31"),
        ("Anfang Januar", "2027-01-01", "2027-01-10"),
        ("irgendwann im Mai", "2027-05-01", "2027-05-31"),
        ("in zwei Wochen", "2026-12-10", "2026-12-10"),
        ("am 3. Juni vormittags", "2027-06-03", "2027-06-03"),
        ("Wir möchten gerne am 15.3. kommen", "2027-03-15", "2027-03-15"),
    ],
)
def test_german_date_expressions(text: str, start: str, end: str) -> None:
    result = parse_visit_date(text, TODAY)
    assert isinstance(result, DateRange), result
    assert (result.start.isoformat(), result.end.isoformat()) == (start, end)
    assert result.text == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("31.2.", "kein gültiges Datum"),
        ("32.13.2027", "kein gültiges Datum"),
        ("gestern", "Vergangenheit"),
        ("1.1.2020", "Vergangenheit"),
        ("25", "Datum wie"),
    ],
)
def test_broken_or_past_dates_say_what_is_wrong(text: str, fragment: str) -> None:
    result = parse_visit_date(text, TODAY)
    assert isinstance(result, Problem) and fragment in result.message


@pytest.mark.parametrize("text", ["asdf", "keine Ahnung", ""])
def test_no_date_is_not_a_date(text: str) -> None:
    assert parse_visit_date(text, TODAY) is None


@given(st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_date_parser_never_crashes_and_never_returns_the_past(text: str) -> None:
    result = parse_visit_date(text, TODAY)
    assert result is None or isinstance(result, Problem) or result.end > TODAY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max@web.de", "max@web.de"),
        ("Meine Mail: lehrerin.meyer@schule-beispiel.de.", "lehrerin.meyer@schule-beispiel.de"),
        ("Kontakt <Info@Verein-Beispiel.DE>", "info@verein-beispiel.de"),
    ],
)
def test_valid_email(text: str, expected: str) -> None:
    assert find_email(text) == expected


@pytest.mark.parametrize(
    "text", ["max@web", "max@@web.de", "@web.de", "max@web..de", "max web.de@", "a@b"]
)
def test_invalid_email_is_a_problem(text: str) -> None:
    assert isinstance(find_email(text), Problem)


def test_no_email_is_none() -> None:
    assert find_email("Frau Berg von der Grundschule") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0170 1234567", "+49 170 1234567"),
        ("02421 123456", "+49 2421 123456"),
        ("+49 170 1234567", "+49 170 1234567"),
        ("Tel. 0221/5550123", "+49 221 5550123"),
    ],
)
def test_valid_phone(text: str, expected: str) -> None:
    assert find_phone(text) == expected


@pytest.mark.parametrize("text", ["0000 000000", "123456789", "+49 1"])
def test_invalid_phone_is_a_problem_or_none(text: str) -> None:
    assert not isinstance(find_phone(text), str)


@pytest.mark.parametrize(
    ("text", "requested", "expected"),
    [
        ("25", True, 25),
        ("ca. 30", True, 30),
        ("wir sind 25", False, 25),
        ("22 Schüler und 2 Lehrer", False, 22),
        ("Wir kommen mit 18 Personen", False, 18),
        ("25", False, None),  # a bare number only counts when asked for
    ],
)
def test_group_size(text: str, requested: bool, expected: int | None) -> None:
    assert find_group_size(text, requested, 2, 100) == expected


@pytest.mark.parametrize("text", ["zwanzig", "2,5", "500", "-3", "1", "viele"])
def test_bad_group_size_is_a_problem(text: str) -> None:
    result = find_group_size(text, True, 2, 100)
    assert isinstance(result, Problem), (text, result)


@given(st.integers(min_value=-10_000, max_value=10_000))
def test_group_size_range_is_enforced(n: int) -> None:
    result = find_group_size(str(n), True, 2, 100)
    if 2 <= n <= 100:
        assert result == n
    else:
        assert isinstance(result, Problem)


def test_contact_name_from_an_introduction() -> None:
    assert find_contact_name("Mein Name ist Anna Schmitz", requested=False) == "Anna Schmitz"
    assert find_contact_name("Frau Yilmaz", requested=True) == "Frau Yilmaz"
    assert find_contact_name("wir sind 25", requested=False) is None
