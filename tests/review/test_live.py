"""The review app's queries on conversations the real assistant stored.

Uses the session fixture `assistant` (tests/conftest.py: action server and Rasa
server with a fresh SQLite tracker store) so that the assumptions about Rasa's
`events` rows (type names, action names, parse_data) are checked for real.
"""

from __future__ import annotations

import uuid

from bot.review import models, queries


def test_real_conversations_appear_with_their_flags(assistant) -> None:  # noqa: ANN001
    urgent = f"live-urgent-{uuid.uuid4().hex[:6]}"
    visit = f"live-visit-{uuid.uuid4().hex[:6]}"
    assistant.texts(urgent, "Hallo")
    assistant.texts(urgent, "Hilfe, bei mir wird gerade eingebrochen!")
    assistant.texts(visit, "Unsere Schulklasse möchte gerne die Polizei besuchen")

    eng = models.engine(assistant.database_url)
    rows, total = queries.list_conversations(eng, queries.Filters())
    by_id = {r.sender_id: r for r in rows}
    assert total >= 2 and urgent in by_id and visit in by_id
    assert "urgent" in by_id[urgent].flags
    assert by_id[urgent].turns == 2 and by_id[urgent].first_message == "Hallo"
    assert "visitor_request" in by_id[visit].flags

    urgent_ids = [
        r.sender_id for r in queries.list_conversations(eng, queries.Filters(flag="urgent"))[0]
    ]
    assert urgent in urgent_ids and visit not in urgent_ids
    # The session's database is shared with other tests: check membership only.
    found = [
        r.sender_id for r in queries.list_conversations(eng, queries.Filters(q="eingebrochen"))[0]
    ]
    assert urgent in found and visit not in found

    transcript = queries.transcript(eng, urgent)
    assert transcript is not None
    user_turns = [t for t in transcript.turns if t.kind == "user"]
    assert [t.text for t in user_turns] == ["Hallo", "Hilfe, bei mir wird gerade eingebrochen!"]
    assert all(t.intent and t.confidence is not None for t in user_turns)
    assert user_turns[1].urgent
    bot_turns = [t for t in transcript.turns if t.kind == "bot"]
    assert any("110" in t.text for t in bot_turns)
    assert "Notfallantwort (110) gegeben" in [t.text for t in transcript.turns]

    overview = queries.overview(eng)
    assert overview.urgent >= 1 and overview.conversations >= 2
