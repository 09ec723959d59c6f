"""German names of the intents for press-office users (../shared/CONTRACTS.md)."""

from __future__ import annotations

INTENT_LABELS = {
    "greet": "Begrüßung",
    "goodbye": "Verabschiedung",
    "thank": "Dank",
    "affirm": "Zustimmung (ja)",
    "deny": "Ablehnung (nein)",
    "bot_challenge": "Frage: Mensch oder Maschine?",
    "ask_capabilities": "Was kann der Assistent?",
    "ask_leitungsstab": "Leitungsstab",
    "ask_strategy_controlling": "Behördenstrategie/Controlling",
    "ask_press_office": "Pressestelle",
    "ask_security_programme": "Sicherheitsprogramm allgemein",
    "ask_burglary_prevention": "Programmziel Wohnungseinbruch",
    "ask_respect": "Programmziel Respekt",
    "ask_traffic_safety": "Programmziel Verkehrsunfälle",
    "request_visitor_group": "Besuchsgruppe anmelden",
    "report_crime": "Anzeige (Tat vorbei)",
    "ask_emergency_number": "Frage nach Notrufnummer",
    "emergency": "Notfall (jetzt dringend)",
    "out_of_scope": "Außerhalb des Themas",
    "inform": "Angabe im Formular",
    "cancel": "Abbrechen",
    "request_human": "Möchte mit einem Menschen sprechen",
    "switch_language": "Sprache oder Leichte Sprache wechseln",
    "other_language": "Nachricht in einer anderen Sprache",
    "feedback": "Rückmeldung zur Antwort",
    "nlu_fallback": "nicht verstanden",
}


def intent_label(name: str | None) -> str:
    """„Pressestelle (ask_press_office)“; unknown names as they are."""
    if not name:
        return "–"
    german = INTENT_LABELS.get(name)
    return f"{german} ({name})" if german else name
