"""A tiny copy of the Rasa project for the whole-loop test (tests/test_maintainers_loop.py).

Same config, domain, rules and stories as the real project (so the real
actions answer), but a few NLU examples per intent and a small frozen blind
set of its own, so that training takes seconds. The press-office intent has
no example about journalists or newspapers: a citizen who writes as a
reporter is misunderstood until the press office labels the message.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import yaml

from bot import PROJECT_ROOT

NLU: dict[str, list[str]] = {
    "greet": ["Hallo", "Guten Tag", "Moin", "Hi", "Guten Morgen", "Hallo zusammen",
              "Servus", "Guten Abend"],
    "goodbye": ["Tschüss", "Auf Wiedersehen", "Bis bald", "Ciao", "Schönen Tag noch",
                "Bis dann", "Mach's gut", "Auf Wiederhören"],
    "thank": ["Danke", "Vielen Dank", "Danke schön", "Herzlichen Dank", "Danke für die Hilfe",
              "Besten Dank", "Dankeschön", "Tausend Dank"],
    "ask_press_office": ["Wie erreiche ich die Pressestelle?", "Telefonnummer der Pressestelle",
                         "Wer ist der Pressesprecher?", "Öffnungszeiten der Pressestelle",
                         "Wo finde ich Pressemitteilungen?", "Kontakt zur Pressestelle",
                         "Ist die Pressestelle heute besetzt?", "E-Mail der Pressestelle"],
    "ask_leitungsstab": ["Was ist der Leitungsstab?", "Was macht der Leitungsstab?",
                         "Aufgaben des Leitungsstabs", "Wen unterstützt der Leitungsstab?",
                         "Wer gehört zum Leitungsstab?", "Erkläre mir den Leitungsstab",
                         "Welche Sachgebiete hat der Leitungsstab?", "Leitungsstab Düren"],
    "request_visitor_group": ["Wir möchten die Polizei mit einer Gruppe besuchen",
                              "Besuch einer Schulklasse anmelden",
                              "Kann unser Verein die Wache besichtigen?",
                              "Besuchergruppe anmelden",
                              "Wir sind eine Klasse und wollen vorbeikommen",
                              "Gruppenbesuch bei der Polizei", "Besichtigung für Senioren",
                              "Unsere Kita möchte die Polizei besuchen"],
    "emergency": ["Hilfe, bei mir wird gerade eingebrochen", "Es brennt, schnell",
                  "Jemand schlägt meine Nachbarin gerade", "Ein Mann bedroht mich mit einem Messer",
                  "Ich werde gerade verfolgt", "Unfall mit Verletzten, kommen Sie schnell",
                  "Einbrecher sind noch im Haus", "Hilfe, mein Mann schlägt mich"],
    "out_of_scope": ["Wie wird das Wetter morgen?", "Erzähl einen Witz",
                     "Was kostet ein Personalausweis?", "Wann fährt der Bus?",
                     "Welche Pizza magst du?", "Wie spät ist es?",
                     "Wer gewinnt die Bundesliga?", "Kochrezept für Nudeln"],
}

BLIND_NLU: dict[str, list[str]] = {
    "greet": ["Hallo du", "Guten Tag allerseits"],
    "goodbye": ["Tschüss dann", "Auf Wiedersehen und bis bald"],
    "thank": ["Vielen herzlichen Dank", "Danke sehr"],
    "ask_press_office": ["Welche Telefonnummer hat die Pressestelle?",
                         "Ich arbeite bei der Lokalzeitung und hätte eine Frage zu einem Einsatz"],
    "ask_leitungsstab": ["Welche Aufgaben hat der Leitungsstab eigentlich?",
                         "Was genau macht der Leitungsstab in Düren?"],
    "request_visitor_group": ["Unsere Schulklasse möchte die Polizei besuchen",
                              "Kann ich einen Besuch für unsere Gruppe anmelden?"],
    "emergency": ["Hilfe, gerade bricht jemand bei mir ein", "Schnell, es brennt im Haus"],
    "out_of_scope": ["Wie wird morgen das Wetter in Düren?", "Erzähl mir bitte einen Witz"],
}
BLIND_URGENT = [{"text": "Ein Mann mit Messer bedroht gerade meine Nachbarin",
                 "situation": "threat_now"}]
BLIND_NON_URGENT = [{"text": "Wie erreiche ich die Pressestelle am Montag?",
                     "kind": "press"}]


def _nlu_yaml(examples: dict[str, list[str]]) -> str:
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in examples.items():
        lines += [f"- intent: {intent}", "  examples: |", *(f"    - {t}" for t in texts)]
    return "\n".join(lines) + "\n"


def build(root: Path) -> Path:
    """Write the fixture project into `root` and return it."""
    (root / "data" / "nlu").mkdir(parents=True)
    (root / "tests" / "blind").mkdir(parents=True)
    (root / "models").mkdir()
    for name in ("config.yml", "domain.yml", "data/rules.yml", "data/stories.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    # config.yml names the spaCy pipeline relative to the project.
    (root / "models" / "spacy-de").symlink_to(PROJECT_ROOT / "models" / "spacy-de")
    press = {k: v for k, v in NLU.items() if k == "ask_press_office"}
    rest = {k: v for k, v in NLU.items() if k != "ask_press_office"}
    (root / "data" / "nlu" / "press_office.yml").write_text(
        "# Press office: contacts, spokespeople, press releases.\n" + _nlu_yaml(press),
        encoding="utf-8",
    )
    (root / "data" / "nlu" / "other.yml").write_text(_nlu_yaml(rest), encoding="utf-8")
    blind = root / "tests" / "blind"
    files = {
        "nlu.yml": {"intents": BLIND_NLU},
        "urgency.yml": {"urgent": BLIND_URGENT, "non_urgent": BLIND_NON_URGENT},
    }
    sums = []
    for name, body in files.items():
        (blind / name).write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
        sums.append(f"{hashlib.sha256((blind / name).read_bytes()).hexdigest()}  {name}")
    (blind / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    return root
