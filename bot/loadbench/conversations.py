"""Scripted conversations for the load benchmark: 12-20 turns of what citizens write.

Written for the benchmark (never taken from tests/blind/): questions about the
Leitungsstab, the press office and the Sicherheitsprogramm, a visitor-group
request through the whole form, small talk, an urgent message, a language
switch. Each conversation of a run gets its own sender id; the visitor form
stores one request per run of the script (in the benchmark's own database).
"""

from __future__ import annotations

LEITUNGSSTAB = (
    "Hallo",
    "Was macht eigentlich der Leitungsstab?",
    "Wen unterstützt der Leitungsstab?",
    "Welche Sachgebiete gehören dazu?",
    "Was bedeutet Behördenstrategie und Controlling?",
    "Und wer kümmert sich um die Öffentlichkeitsarbeit?",
    "Wie erreiche ich die Pressestelle?",
    "Ist da gerade jemand erreichbar?",
    "Bist du ein Mensch?",
    "Was kannst du alles?",
    "Welche Ziele hat das Sicherheitsprogramm?",
    "Danke für die Auskunft",
    "Tschüss",
)

SECURITY_PROGRAMME = (
    "Guten Tag",
    "Was ist das Sicherheitsprogramm der Polizei Düren?",
    "Was tut ihr gegen Wohnungseinbrüche?",
    "Wie kann ich mein Haus besser vor Einbrechern schützen?",
    "Und was hat es mit dem Respekt gegenüber Polizeibeamten auf sich?",
    "Warum ist euch das so wichtig?",
    "Wie wollt ihr die Zahl der schweren Verkehrsunfälle senken?",
    "Gibt es deswegen mehr Geschwindigkeitskontrollen?",
    "Kann ich das auch in Leichter Sprache lesen?",
    "Was macht der Leitungsstab?",
    "Bitte wieder normale Sprache",
    "Welche Nummer hat der Notruf?",
    "Mein Fahrrad wurde letzte Woche gestohlen, wie zeige ich das an?",
    "ok danke",
    "Auf Wiedersehen",
)

VISITOR_GROUP = (
    "Hallo zusammen",
    "Was kannst du?",
    "Wir möchten mit unserer Schulklasse die Polizei besuchen",
    "Ja, einverstanden",
    "Klasse 8a der Realschule Jülich",
    "Herr Schneider",
    "schneider@realschule-beispiel.de",
    "24",
    "Ende Mai",
    "Verkehrssicherheit und Einbruchschutz",
    "Ja, absenden",
    "Wann meldet sich denn jemand bei uns?",
    "Kann ich die Pressestelle auch anrufen?",
    "Vielen Dank!",
    "Tschüss",
)

PRESS = (
    "Moin",
    "Ich bin Journalistin, an wen wende ich mich mit einer Presseanfrage?",
    "Wann ist die Pressestelle erreichbar?",
    "Gibt es eine E-Mail-Adresse für Medienanfragen?",
    "Wo finde ich eure Pressemitteilungen?",
    "Kann ich mit einem Menschen sprechen?",
    "Bist du ein Bot?",
    "Was macht der Leitungsstab genau?",
    "Gehört die Pressestelle zum Leitungsstab?",
    "Hat das Sicherheitsprogramm auch mit Verkehr zu tun?",
    "Super, danke",
    "Wo kann ich meinen Personalausweis verlängern?",
    "Danke, tschüss",
)

MIXED = (
    "Hallo",
    "Unser Sportverein möchte gern die Polizei besuchen",
    "ja",
    "Jugendabteilung TuS Merzenich",
    "abbrechen",
    "Was ist die Nummer vom Notruf?",
    "Hilfe, bei meinem Nachbarn wird gerade eingebrochen!",
    "Was macht ihr gegen Einbrüche?",
    "Wie erreiche ich die Pressestelle?",
    "Wie wird das Wetter morgen?",
    "Erzähl mir einen Witz",
    "Was ist der Leitungsstab?",
    "in English please",
    "What does the press office do?",
    "Deutsch bitte",
    "Danke",
    "Tschüss",
)

LONG = (
    "Guten Abend",
    "Mit wem spreche ich hier?",
    "Was kann ich dich fragen?",
    "Was ist der Leitungsstab der Kreispolizeibehörde?",
    "Wer leitet die Behörde?",
    "Was macht das Sachgebiet Behördenstrategie?",
    "Und die Presse- und Öffentlichkeitsarbeit?",
    "Wie ist die Telefonnummer der Pressestelle?",
    "Welche Schwerpunkte hat euer Sicherheitsprogramm?",
    "Was macht ihr gegen Einbrecher?",
    "Immer mehr Leute beleidigen Polizisten, tut ihr was dagegen?",
    "Was ist mit Unfällen auf der Landstraße?",
    "Bei uns wurde vor zwei Wochen ins Gartenhaus eingebrochen, wen muss ich informieren?",
    "Welche Notrufnummer hat die Polizei?",
    "Kann unsere Seniorengruppe die Polizei besuchen?",
    "nein",
    "Wie lange hat die Pressestelle heute geöffnet?",
    "Das hat mir geholfen",
    "Vielen Dank",
    "Schönen Abend noch",
)

SCRIPTS: tuple[tuple[str, ...], ...] = (
    LEITUNGSSTAB,
    SECURITY_PROGRAMME,
    VISITOR_GROUP,
    PRESS,
    MIXED,
    LONG,
)


def script(index: int) -> tuple[str, ...]:
    """The conversation number `index` of a run (the scripts in turn)."""
    return SCRIPTS[index % len(SCRIPTS)]
