"""The deterministic urgency detector on its own (no trained model needed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.urgency import UrgencyDetector, _edit_distance_at_most_one, fold, german_word_list


@pytest.fixture(scope="module")
def detector() -> UrgencyDetector:
    return UrgencyDetector(known_words=german_word_list())


@pytest.mark.parametrize(
    "text",
    [
        "Hilfe!",
        "Einbrecher im Haus",
        "hilfe einbrescher im haus",  # typo
        "Mein Mann schlägt mich",
        "mein mann schlaegt mich",  # ae for ä
        "er schlug mich gerade mit der faust",  # past form, but now
        "Es brennt im Keller",
        "es brent",  # typo
        "Auf der B56 gab es einen Unfall, da sind Verletzte",
        "Jemand bedroht mich mit einem Messer",
        "mein opa ist bewusstlos und atmet nicht",
        "Ich werde verfolgt",
        "Someone is breaking into my house",
        "there is a fire in the building",
        "Ich wollte nach der Pressestelle fragen, aber gerade bricht jemand beim Nachbarn ein",
    ],
)
def test_urgent_messages_are_flagged(detector: UrgencyDetector, text: str) -> None:
    result = detector.assess(text)
    assert result.urgent, (text, result)
    assert result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Was tut die Polizei gegen Einbrecher?",
        "Wie schütze ich meine Wohnung vor Einbruch?",
        "Letzten Monat wurde bei uns eingebrochen, wie zeige ich das an?",
        "welche Nummer hat der Notruf?",
        "Wann rufe ich 110 und wann 112 an?",
        "Wie viele Verkehrsunfälle mit Verletzten gab es letztes Jahr?",
        "Ich brauche Hilfe bei der Online-Anzeige",
        "Ich schaue gerade einen Krimi, da brennt ein Haus",
        "Ich bin Feuer und Flamme für den Polizeiberuf",
        "Ich war auf der Messe in Köln",  # a real word is not "corrected" to Messer
        "Was schlagen Sie vor?",
        "",
        "   ",
    ],
)
def test_confusables_are_not_flagged(detector: UrgencyDetector, text: str) -> None:
    assert not detector.assess(text).urgent, text


def test_now_overrides_past_framing(detector: UrgencyDetector) -> None:
    assert not detector.assess("Gestern hat mich mein Nachbar bedroht").urgent
    assert detector.assess(
        "Gestern hat er mich bedroht und jetzt steht er wieder vor der Tür"
    ).urgent


def test_perfect_tense_is_past_for_property_but_not_for_people(detector: UrgencyDetector) -> None:
    assert not detector.assess("Bei uns ist eingebrochen worden, was muss ich tun?").urgent
    assert detector.assess("Mein Opa ist zusammengebrochen und bewegt sich nicht").urgent


@pytest.mark.parametrize(
    "text",
    [
        "Bei mir wurde eingebrochen.",  # docs/urgency.md's examples of a possible danger
        "ich wurde beklaut",
        "Unsere Gartenlaube ist aufgebrochen worden",
        "Wir sind bestohlen worden, was sollen wir tun?",
    ],
)
def test_a_break_in_or_theft_with_no_time_may_be_going_on(
    detector: UrgencyDetector, text: str
) -> None:
    # Danger in the perfect tense only: the flagger makes it "possible" (110 line).
    result = detector.assess(text)
    assert not result.urgent and result.reasons and result.suppressed_by == ("perfect",)


@pytest.mark.parametrize(
    "text",
    [
        "Letzte Woche wurde bei uns eingebrochen, wie zeige ich das an?",
        "Vor zwei Monaten wurde ich im Zug bestohlen",
        "Wie viele Wohnungen wurden im Kreis Düren aufgebrochen?",
        "Falls bei mir eingebrochen wurde, was muss ich tun?",
    ],
)
def test_a_break_in_with_a_time_or_asked_about_is_not(detector: UrgencyDetector, text: str) -> None:
    result = detector.assess(text)
    possible = bool(result.reasons) and set(result.suppressed_by) <= {"perfect"}
    assert not result.urgent and not possible


def test_lemmas_are_used(detector: UrgencyDetector) -> None:
    # spaCy's lookup lemmatizer turns "schlugen" into "schlagen".
    assert detector.assess("die schlugen uns", lemmas=["der", "schlagen", "sich"]).urgent


def test_fold() -> None:
    assert fold("Schlägt Größe Übel") == "schlaegt groesse uebel"


@given(st.text(alphabet="abcdefgh", max_size=12), st.text(alphabet="abcdefgh", max_size=12))
def test_edit_distance_matches_reference(a: str, b: str) -> None:
    def reference(x: str, y: str) -> int:  # optimal string alignment distance
        d = [[0] * (len(y) + 1) for _ in range(len(x) + 1)]
        for i in range(len(x) + 1):
            d[i][0] = i
        for j in range(len(y) + 1):
            d[0][j] = j
        for i in range(1, len(x) + 1):
            for j in range(1, len(y) + 1):
                cost = x[i - 1] != y[j - 1]
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1 and j > 1 and x[i - 1] == y[j - 2] and x[i - 2] == y[j - 1]:
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        return d[len(x)][len(y)]

    assert _edit_distance_at_most_one(a, b) == (reference(a, b) <= 1)


@given(st.text(max_size=2000))
def test_any_text_is_assessed_without_error(text: str) -> None:
    UrgencyDetector().assess(text)
