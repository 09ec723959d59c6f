"""Which language a chat message is written in (py3langid, model shipped in the package).

The assistant answers in German (standard or Leichte Sprache) and English; a
message in Turkish, Arabic, Russian, Ukrainian or Polish gets a short fixed
answer in that language. Short and ambiguous messages („ok“, „Hallo“, „110“)
say nothing about the language: `identify` returns None for them and the
conversation keeps its language, German at the start.

Decision, in this order:
1. Arabic or Cyrillic script: Arabic, or Russian/Ukrainian (letters that only
   one of the two alphabets has decide; otherwise the classifier between the two).
2. Latin script: at least MIN_WORDS words and MIN_LETTERS letters, then the
   classifier restricted to German, English, Turkish and Polish must be at least
   MIN_PROBABILITY sure; Turkish and Polish additionally need a letter of their
   alphabets (ı ğ ş / ą ę ł ń ś ź ż) or near-certainty, so that German written
   without umlauts is never taken for Polish.
Accuracy and cost on short chat messages: docs/benchmarks.md (bench/langid_bench.py).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

GERMAN, ENGLISH = "de", "en"
ANSWERED = (GERMAN, ENGLISH)  # languages the assistant answers in
FIXED_ANSWER = ("tr", "ar", "ru", "uk", "pl")  # languages with a fixed short answer
ALL = ANSWERED + FIXED_ANSWER

MIN_WORDS = 2
MIN_LETTERS = 8
MIN_PROBABILITY = 0.8
CERTAIN = 0.999

_WORD = re.compile(r"[^\W\d_]+")
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_ONLY_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_ONLY_RUSSIAN = re.compile(r"[ыэъёЫЭЪЁ]")
_TURKISH_LETTERS = re.compile(r"[ıİğĞşŞ]")
_POLISH_LETTERS = re.compile(r"[ąęłńśźżĄĘŁŃŚŹŻ]")


@lru_cache(maxsize=4)
def _identifier(languages: tuple[str, ...]) -> Any:
    """A py3langid identifier restricted to `languages` (one per set: restricting
    is costly, classifying is not)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier


def _classify(text: str, languages: list[str]) -> tuple[str, float]:
    language, probability = _identifier(tuple(languages)).classify(text)
    return str(language), float(probability)


def identify(text: str) -> str | None:
    """The language code of `text` (one of ALL), or None when it cannot be told."""
    letters = "".join(_WORD.findall(text or ""))
    if not letters:
        return None
    arabic = len(_ARABIC.findall(letters))
    cyrillic = len(_CYRILLIC.findall(letters))
    if arabic * 2 >= len(letters):
        return "ar"
    if cyrillic * 2 >= len(letters):
        if _ONLY_UKRAINIAN.search(letters) and not _ONLY_RUSSIAN.search(letters):
            return "uk"
        if _ONLY_RUSSIAN.search(letters) and not _ONLY_UKRAINIAN.search(letters):
            return "ru"
        return _classify(text, ["ru", "uk"])[0]
    if len(_WORD.findall(text)) < MIN_WORDS or len(letters) < MIN_LETTERS:
        return None
    language, probability = _classify(text, ["de", "en", "tr", "pl"])
    if probability < MIN_PROBABILITY:
        return None
    if language == "tr" and not _TURKISH_LETTERS.search(text) and probability < CERTAIN:
        return None
    if language == "pl" and not _POLISH_LETTERS.search(text) and probability < CERTAIN:
        return None
    return language
