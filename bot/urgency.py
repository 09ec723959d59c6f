"""Deterministic urgency detection: does this message describe danger now?

The intent classifier can be wrong; this detector is a second, independent,
rule-based opinion so that a misclassified intent never hides an urgent
message. It works on a normalised token stream (lowercase, umlauts folded to
ae/oe/ue, ß to ss), corrects typos against its own vocabulary (only tokens that
are not known German words), and matches:

- danger patterns (violence, weapons, fire, medical, intrusion, suicide, ...),
- which are suppressed by past-time, hypothetical or informational framing
  ("letzte Woche wurde eingebrochen", "wie schütze ich mich vor Einbruch"),
- unless the message also says it is happening now ("jetzt", "gerade", "!!").

`UrgencyDetector.assess` returns the matched reasons, which the NLU component
stores with the message so the press office can see why 110 was answered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e"})
_TOKEN = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    return text.lower().translate(_FOLD)


def german_word_list() -> set[str]:
    """Known German word forms (folded), from spacy-lookups-data's lemma table.

    Kept here, away from Rasa: the action server checks feedback comments with
    the detector and must not import Rasa and TensorFlow for it (seconds).
    """
    import gzip
    import json
    from importlib.resources import files

    path = files("spacy_lookups_data") / "data" / "de_lemma_lookup.json.gz"
    with gzip.open(str(path), "rt", encoding="utf-8") as handle:
        table: dict[str, str] = json.load(handle)
    return {fold(word) for pair in table.items() for word in pair}


# Danger now. Each pattern runs over the space-joined, typo-corrected tokens
# (and, separately, over the spaCy lemmas). `\b` keeps words whole; `\w*`
# admits compounds and inflections ("einbrecher", "einbrecherbande").
DANGER: dict[str, str] = {
    "intrusion": (
        r"\beinbrecher\w*\b.{0,25}\b(im|in|hier|da|bei|drin|drinnen|ist|sind|gerade|jetzt)\b"
        r"(?!.{0,12}\b(herbst|winter|sommer|fruehjahr|dunkel\w*|allgemeinen|kreis|jahr)\b)"
        r"|\b(wird|werden)\b.{0,40}\b(eingebrochen|aufgebrochen|angezuendet|ueberfallen"
        r"|ausgeraubt|angegriffen|zusammengeschlagen|verpruegelt)\b|\baufzu?hebeln\b|\bhebelt\b"
        r"|\bzu schaffen\b|\bglas\b.{0,20}\b(splittern|klirren|zerbricht|kaputt)\b"
        r"|\beingestiegen\b|\baufzuschliessen\b|\bbricht\b.{0,40}\bein\b"
        r"|\bbrechen\b.{0,30}\bein\b|\beinbruch\b.{0,30}\b(jetzt|gerade|laeuft)\b"
        r"|\b(jemand|einer|fremde\w*|mann|typ|leute|person\w*|maenner)\b.{0,40}"
        r"\b(im|in\s+(meinem|unserem|meiner|unserer|der))\s+"
        r"(haus|wohnung|keller|garten|zimmer|garage|schlafzimmer|flur)\b"
        r"|\b(versucht|will|wollen|versuchen)\b.{0,40}\b(reinzukommen|einzubrechen|aufzubrechen)\b"
        r"|\b(tritt|treten|haemmert|ruettelt|haut)\b.{0,30}\b(tuer|fenster)\w*"
        r"|\beinbrechen\b.{0,20}\b(jetzt|gerade)\b"
    ),
    # A break-in or theft told in the passive or perfect tense ("bei mir wurde
    # eingebrochen", "ich wurde beklaut"): docs/urgency.md's example of a
    # possible danger. Always past in form, so with no time given the "perfect"
    # framing makes it possible (the 110 line), never urgent on its own.
    "break_in_or_theft": (
        r"\b(wurde|wurden|worden|ist|sind|hat|haben)\b.{0,40}"
        r"\b(eingebrochen|aufgebrochen|beklaut|bestohlen)\b"
    ),
    "violence": (
        r"\b(schlaegt|schlagen|schlug|pruegelt|pruegeln|verpruegelt|tritt|treten|wuergt"
        r"|gewuergt|haut)\b.{0,30}\b(mich|uns|mir|sich|meine\w*|mein|sie|ihn|ihm|ihr|kind|kinder"
        r"|frau|mann|zusammen|tot)\b"
        r"|\bschlaegerei\w*|\bmassenschlaegerei|\bangegriffen\b|\bgreift\b.{0,30}\ban\b"
        r"|\battackiert|\bvergewaltig\w*|\bsexuell\w* belaestig\w*|\bueberfall\w*"
        r"|\bueberfallen\b|\bausgeraubt\b|\braub\b|\bgewalt\b.{0,20}\b(jetzt|gerade)\b"
        r"|\bfass\w* mich\b|\bmisshandelt\b|\bschubst\b|\bschlaege\b|\bgewuergt\b"
        r"|\bantut\b|\bantun\b"
        r"|\bum hilfe\b|\b(zerrt|gezerrt|zerren)\b|\blaesst mich nicht\b|\bentrissen\b"
        r"|\bmaskiert\w*|\bstuermen\b|\bschreit\b.{0,40}\b(hilfe|schlaege|aufhoeren)\b"
    ),
    "threat": (
        r"\bbedroh\w*|\bdroht\b|\bdrohen\b|\b(umbringen|abstechen|erschiessen|toeten|abknallen)\b"
        r"|\bbringt\b.{0,20}\bum\b(?!.*\bverkehr)|\bverfolgt\b|\bhinterher\b|\bstarrt\b"
        r"|\bentfuehr\w*|\bgeisel\w*|\bstalk\w*.{0,30}\b(vor|jetzt|gerade)\b"
    ),
    "weapon": (
        r"\w*messer\b|\w*messern\b|\bwaffen?\b|\bschusswaffe\w*|\bpistole\w*|\bgewehr\w*"
        r"|\bschuesse\w*|\bgeschossen\b|\bschiesst\b|\bschiessen\b|\baxt\b|\bmachete\w*"
    ),
    "fire_gas": (
        r"\bbrennt\b|\bbrent\b|\bbrennen\b.{0,20}\b(jetzt|gerade)\b|\bfeuer\b|\w*brand\b|\brauch\b"
        r"|\bzuendet\w*|\bangezuendet\b|\b(stinkt|riecht)\b.{0,20}\bgas\b|\bgefahrgut\w*"
        r"|\bsmell\w* gas\b|\bgas leak\b"
        r"|\bqualm\w*|\bflammen\b|\bgasgeruch|\briecht\b.{0,30}\bgas\b|\bgasleck\w*"
        r"|\bexplo\w*|\bbrandgeruch"
    ),
    "medical": (
        r"\bbewusstlos\w*|\bohnmaechtig\w*|\batmet\b.{0,15}\bnicht\b|\bkeine luft\b"
        r"|\breagiert\b.{0,15}\bnicht\b|\bblut\w*|\bverletz\w*|\bschwerverletzt\w*"
        r"|\bherzinfarkt\w*|\bschlaganfall\w*|\bstirbt\b|\bsterben\b|\bleblos\w*|\btot\b"
        r"|\bkrampf\w*|\bnotarzt\b|\bblau angelaufen\b|\batmet\b.{0,10}\b(komisch|schwer|kaum)\b"
        r"|\bkaum luft\b|\bzusammengebrochen\b|\bzusammengesackt\b|\bschmerzen\b"
        r"|\b(tabletten|pillen)\b.{0,20}\bgeschluckt\b|\bueberdosis\b"
        r"|\bnicht (wieder )?aufgetaucht\b"
        r"|\b(reglos|regungslos)\b|\bbewegt sich nicht\b|\bschwarz vor augen\b|\bins getraenk\b"
        r"|\bnicht mehr (richtig )?sprechen\b|\bverschuettet\w*|\bgekentert\b|\bins eis\b"
        r"|\bstecke\b.{0,30}\bfest\b"
        r"|\bsteck\w* fest\b|\brettungswagen\b|\bkrankenwagen\b|\bliegt\b.{0,30}"
        r"\b(boden|strasse|regungslos)\b|\bertrink\w*|\beingeklemmt\w*|\bvergiftet\b"
    ),
    "self_harm": (
        r"\bmich\b.{0,20}\b(umbringen|toeten|das leben nehmen)\b|\bsuizid\w*|\bselbstmord\w*"
        r"|\b(springen|springt)\b.{0,30}\b(bruecke|dach|fenster)\b"
        r"|\b(bruecke|dach)\b.{0,60}\b(springen|springt)\b|\bnicht mehr leben\b"
        r"|\bdas leben (nimmt|nehmen)\b|\bmache?\b.{0,12}\bschluss\b|\bkeine kraft mehr\b"
        r"|\bumbringen\b"
    ),
    "traffic_now": (
        r"\bgeisterfahrer\w*|\bfalschfahrer\w*|\bunfall\b.{0,40}\b(verletz\w*|eingeklemmt"
        r"|jetzt|gerade|blut\w*|schnell)\b|\b(betrunken\w*|besoffen\w*)\b.{0,40}"
        r"\b(faehrt|fahren|auto|steuer)\b|\bfaehrt\b.{0,30}\b(betrunken\w*|besoffen\w*)\b"
        r"|\berfasst\b|\bin die menschen\w*|\bsteine\b.{0,40}\b(auto\w*|werfen|wirft)\b"
        r"|\bschlangenlinie\w*|\b(spur|autobahn)\b.{0,40}\bentgegen\b|\bentgegen\b.{0,40}"
        r"\b(spur|autobahn)\b|\bueberschlagen\b|\bauf dem dach\b"
    ),
    "missing_person": (
        r"\b(kind|tochter|sohn|oma|opa|mutter|vater)\b.{0,40}\b(weg|verschwunden|vermisst"
        r"|nicht mehr da|nicht auffindbar|weggelaufen|abgehauen)\b|\beingesperrt\b"
        r"|\beingeschlossen\b|\b(kind|kinder)\b.{0,40}\b(gleis\w*|autobahn)\b"
        r"|\b(gleis\w*|autobahn)\b.{0,40}\b(kind|kinder)\b"
    ),
    "call_for_help": (
        r"^(bitte )?(hilfe|help|sos|notfall|emergency)( |$)(?!(bei|zu|zur|zum|fuer|mit|wie"
        r"|wo|was|wann|welche\w*)\b)|\bsos\b|\bnotfall\b(?!\w)|\bschnell\b.{0,20}\bkommen\b"
        r"|\bkommen\b.{0,20}\b(schnell|sofort)\b|\bsofort\b.{0,10}\bkommen\b|\b(schicken|schickt)\b.{0,20}\bpolizei\b"
        r"|\bpolizei\b.{0,20}\b(schicken|schickt)\b|\bhilfe\b.{0,10}\b(schnell|sofort"
        r"|dringend)\b|\b(brauche|brauchen)\b.{0,20}\b(sofort|dringend|schnell)\b.{0,10}\bhilfe\b"
        r"(?! (bei|zu|zur|zum|mit|fuer|beim)\b)"
        r"|\bangst\b.{0,60}\b(tuer|fenster|draussen|vor|haus|wohnung|hier|steht|schreit)\b"
        r"|\b(tuer|fenster|draussen|steht|starrt|schreit)\b.{0,60}\bangst\b"
        r"|\bin gefahr\b|\blebensgefahr\b|\bhilfe hilfe\b"
    ),
    "english": (
        r"\b(help me|please help|call the police|someone is|somebody is|there is a fire|fire"
        r"|burglar\w*|breaking in|break in|attacking|attacked|stabbed|shot|shooting|gun|knife"
        r"|bleeding|unconscious|not breathing|dying(?! to)|injured|hurt|kill|kidnapp\w*|threaten\w*"
        r"|emergency|drowning|accident)\b"
    ),
}

# Framing that moves a danger word out of the present: the past, a
# hypothetical, a question about the police's work, news or fiction.
SUPPRESS: dict[str, str] = {
    "past": (
        r"\b(gestern|vorgestern|neulich|damals|letzte[nmrs]?|letztes|vorige[nmrs]?|voriges"
        r"|vergangene[nmrs]?|vor (ein|zwei|drei|vier|fuenf|einigen|ein paar|\d+) (tag|tagen"
        r"|woche|wochen|monat|monaten|jahr|jahren)|im urlaub"
        r"|am wochenende|vor kurzem|letztens)\b"
        r"|\b(last (week|month|year|night)|yesterday)\b"
    ),
    # Perfect tense without a time: over for property and insults, but for
    # people in danger ("ist ins Eis eingebrochen") it usually just happened.
    "perfect": (
        r"\b(wurde|wurden|wurd|worden|war|waren|ist|sind|hat|haben|hatte)\b.{0,60}"
        r"\b(eingebrochen|gestohlen|geklaut|beklaut|beschaedigt|zerkratzt|aufgebrochen|betrogen"
        r"|bestohlen|ausgeraubt|passiert|gebrannt|angefahren|beleidigt|geschlagen|bedroht)\b"
    ),
    "hypothetical": (
        r"\b(falls|wenn|sollte|angenommen|theoretisch|im fall|im falle|if|what if|was tun|stimmt es"
        r"|wann|haeufig\w*|meisten|typisch\w*|erlaubt|verboten|darf|legal|beantrag\w*"
        r"|waffenschein\w*|gesetz\w*)\b"
    ),
    "informational": (
        r"\b(wie kann|wie schuetze|schuetzen|schutz|tipps?|praevention|vorbeug\w*|beratung"
        r"|sicherheitsprogramm|programm\w*|ziel\w*|statistik\w*|wie viele|zahlen|anzahl"
        r"|quote|artikel|pressemitteilung\w*|presse\w*|bericht\w*|journalist\w*|reportage"
        r"|interview|nummer\w*|notrufnummer\w*|110|112|anrufen|waehlen|unterschied|kostet"
        r"|kurs\w*|erste hilfe|uebung\w*|formular\w*|kontaktformular|hausarbeit|ausfuellen|chat"
        r"|massnahmen|bekaempf\w*|reduzier\w*|was tut|was macht|was unternimmt|respekt\w*"
        r"|anzeige\w*|anzeigen|melden|internetwache|online|besuch\w*|klasse|fuehrung"
        r"|verhindern|erkennen|rate|raten|fahrrad|bewerbung|ausbildung|beruf\w*|job\w*"
        r"|oft|oefter|immer wieder|manchmal|regelmaessig|selten|generell|allgemein"
        r"|how (do|does|can|often)|what (is|does)|why|statistics|prevent\w*|reduc\w*|number)\b"
    ),
    "fiction": r"\b(krimi\w*|film\w*|serie\w*|buch|roman|tatort|gucke|schaue|videospiel\w*)\b",
    "idiom": (
        r"\b(feuer und flamme|vor langeweile|langeweile|akku|bringt mich (noch )?um"
        r"|verkehr bringt|nervt|lachen|vor lachen|tot(al)?lach\w*|zu tode (gelangweilt|erschreckt)"
        r"|brennend interessiert|brennt mir unter den naegeln|brennende frage|totschlagargument"
        r"|tote hose|killer\w*|kill (time|it)|dying to)\b|\bschlag\w*\b.{0,30}\bvor$"
    ),
}

# Danger to people: the perfect tense alone does not make it a past event.
PERSON_DANGER = {"medical", "self_harm", "fire_gas", "weapon", "missing_person", "traffic_now"}

# Saying it happens now overrides any suppression.
NOW = (
    r"\b(jetzt|gerade|grad|sofort|schnell|dringend|noch da|noch im|noch in|immer noch"
    r"|in diesem moment|momentan|eben|right now|now|currently|hurry)\b|!{2,}"
)

_DANGER = {name: re.compile(pattern) for name, pattern in DANGER.items()}
_SUPPRESS = {name: re.compile(pattern) for name, pattern in SUPPRESS.items()}
_NOW = re.compile(NOW)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
_HELP_ALONE = re.compile(r"^\W*(hilfe|help|sos|notfall|notruf|polizei)\W*$")
# Words of the patterns form the vocabulary that typos are corrected toward.
_VOCAB = sorted(
    {
        word
        for pattern in [*DANGER.values(), NOW]
        for word in re.findall(r"[a-z]{5,}", re.sub(r"\\[a-zA-Z]", " ", pattern))
    }
    - {"woche", "wochen", "jahren", "monaten"}
)


@dataclass(frozen=True)
class UrgencyResult:
    urgent: bool
    reasons: tuple[str, ...] = ()
    suppressed_by: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            "urgent": self.urgent,
            "reasons": list(self.reasons),
            "suppressed_by": list(self.suppressed_by),
        }


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        i = diffs[0]
        return len(diffs) == 2 and diffs[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


class UrgencyDetector:
    """Flags messages that describe danger now. Pure Python, deterministic."""

    def __init__(self, known_words: Iterable[str] = ()) -> None:
        # Real German words are never "corrected" into danger words ("Messe").
        self.known_words = frozenset(known_words)
        self._vocab_by_initial: dict[str, list[str]] = {}
        for word in _VOCAB:
            self._vocab_by_initial.setdefault(word[0], []).append(word)

    def correct(self, token: str) -> str:
        if len(token) < 5 or token in self.known_words or token.isdigit():
            return token
        for word in self._vocab_by_initial.get(token[0], ()):
            if word == token:
                return token
        for word in self._vocab_by_initial.get(token[0], ()):
            if len(word) >= 6 and _edit_distance_at_most_one(token, word):
                return word
        return token

    def normalise(self, text: str) -> str:
        folded = fold(text)
        tokens = [self.correct(t) for t in _TOKEN.findall(folded)]
        return " ".join(tokens)

    def assess(self, text: str, lemmas: Iterable[str] = ()) -> UrgencyResult:
        """The whole message, then each sentence on its own.

        Framing in one sentence ("Ich habe eine Frage zur Pressestelle.") must
        not suppress danger in another ("Hilfe, es brennt bei uns!"): any
        urgent part makes the message urgent.
        """
        whole = self._assess(text, lemmas)
        if whole.urgent:
            return whole
        sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
        if len(sentences) > 1:
            for sentence in sentences:
                part = self._assess(sentence, ())
                if part.urgent:
                    return part
        return whole

    def _assess(self, text: str, lemmas: Iterable[str]) -> UrgencyResult:
        if not text or not text.strip():
            return UrgencyResult(False)
        folded = fold(text)
        if _HELP_ALONE.match(folded):
            return UrgencyResult(True, ("call_for_help",))
        streams = [self.normalise(text)]
        lemma_stream = " ".join(fold(lemma) for lemma in lemmas if lemma.strip())
        if lemma_stream:
            streams.append(self.normalise(lemma_stream))
        reasons = tuple(name for name, rx in _DANGER.items() if any(rx.search(s) for s in streams))
        if not reasons:
            return UrgencyResult(False)
        main = streams[0]
        now = bool(_NOW.search(main) or _NOW.search(folded))
        suppressed = tuple(name for name, rx in _SUPPRESS.items() if rx.search(main))
        if "perfect" in suppressed and PERSON_DANGER & set(reasons):
            suppressed = tuple(name for name in suppressed if name != "perfect")
        strong = {"fiction", "idiom"} & set(suppressed)
        if strong or (suppressed and not now):
            return UrgencyResult(False, reasons, suppressed)
        return UrgencyResult(True, reasons)
