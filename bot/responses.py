"""The domain response `utter_emergency`, generated from the knowledge file.

`utter_emergency` must work without the action server, so its text lives in
domain.yml; its wording lives in bot/knowledge.yml (answer `emergency`) like
every other text. Rasa picks a response variation whose slot conditions all
hold (conditional ones before the default), so the variations here are
mutually exclusive: the language of the message first (Turkish, Arabic, ...),
then English, then Leichte Sprache, then standard German as the default.
`bot sync-domain` writes them into domain.yml; tests/test_knowledge.py fails
when domain.yml and the knowledge file differ.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot import PROJECT_ROOT
from bot.knowledge import ENGLISH, FIXED_LANGUAGES, LEICHT, STANDARD, Knowledge, language_of

DOMAIN = PROJECT_ROOT / "domain.yml"
EMERGENCY = "emergency"
RESPONSE = "utter_emergency"
_BEGIN = "  # --- utter_emergency: generated from bot/knowledge.yml (bot sync-domain) ---\n"
_END = "  # --- end of generated utter_emergency ---\n"


def _slot(name: str, value: str) -> dict[str, str]:
    return {"type": "slot", "name": name, "value": value}


def emergency_variations(knowledge: Knowledge) -> list[dict[str, Any]]:
    def text(mode: str) -> str:
        return knowledge.answer(EMERGENCY, mode).text

    def meta(mode: str) -> dict[str, str]:
        # Passed on to the widget like the actions' metadata (bot/web/answer_output.py).
        return {"lang": language_of(mode), "mode": mode}

    variations: list[dict[str, Any]] = [
        {"condition": [_slot("message_language", code)], "text": text(code), "metadata": meta(code)}
        for code in FIXED_LANGUAGES
    ]
    for detected in (ENGLISH, "unknown"):
        variations.append(
            {
                "condition": [_slot("language", ENGLISH), _slot("message_language", detected)],
                "text": text(ENGLISH),
                "metadata": meta(ENGLISH),
            }
        )
    for detected in (STANDARD, "unknown"):
        variations.append(
            {
                "condition": [
                    _slot("language", STANDARD),
                    _slot("leichte_sprache", "on"),
                    _slot("message_language", detected),
                ],
                "text": text(LEICHT),
                "metadata": meta(LEICHT),
            }
        )
    variations.append({"text": text(STANDARD), "metadata": meta(STANDARD)})
    return variations


def domain_variations(path: Path = DOMAIN) -> list[dict[str, Any]]:
    domain = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(domain["responses"][RESPONSE])


def render_block(knowledge: Knowledge) -> str:
    body = yaml.safe_dump(
        {RESPONSE: emergency_variations(knowledge)},
        allow_unicode=True,
        sort_keys=False,
        width=1000,
    )
    indented = "".join(f"  {line}\n" for line in body.splitlines())
    return (
        "responses:\n"
        "  # Contract (../shared/CONTRACTS.md): names 110 and 112 in its first sentence,\n"
        "  # in every variant. The only fixed response: every other text comes from\n"
        "  # bot/knowledge.yml through the actions.\n" + _BEGIN + indented + _END
    )


def sync(path: Path = DOMAIN, knowledge: Knowledge | None = None) -> bool:
    """Rewrite the generated block in domain.yml; True when something changed."""
    knowledge = knowledge or Knowledge.load()
    text = path.read_text(encoding="utf-8")
    block = render_block(knowledge)
    pattern = re.compile(r"responses:\n.*?" + re.escape(_END), re.DOTALL)
    if pattern.search(text):
        updated = pattern.sub(lambda _: block, text, count=1)
    else:
        updated = text.replace("RESPONSES_PLACEHOLDER\n", block, 1)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        return True
    return False
