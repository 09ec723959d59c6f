"""The production tracker store: Rasa's SQL tracker store without its blocking waits.

Rasa 3.6's `SQLTrackerStore` runs every query synchronously inside the event
loop, and with an event broker each `save` first loads the whole tracker a
second time only to find which events are new. Measured on PostgreSQL
(bench/profile_turn.py --production, docs/performance.md): about 4.5 ms of every
turn the server's only event-loop thread waited on the database, and the
second load cost about 3.5 ms of CPU.

This store keeps Rasa's schema, queries and session semantics; it runs the
database work in a worker thread (the loop serves other conversations while
PostgreSQL answers) and finds the new events with the count query Rasa's save
already makes. Events are published to the broker after the commit, so a
consumer never sees an event the tracker store does not hold. The lock store
makes sure one conversation is saved by one server at a time, as before.
`endpoints-production.yml` loads it by module path.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)


class ThreadedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose database round trips run off the event loop."""

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        rows = await asyncio.to_thread(self._load_rows, sender_id, fetch_events_from_all_sessions)
        if not (self.domain and rows):
            return None
        # Replaying the events is CPU work: in the loop's thread, as in Rasa.
        events = [json.loads(data) for data in rows]
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    def _load_rows(self, sender_id: str, fetch_events_from_all_sessions: bool) -> list[str]:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            return [row.data for row in query.all()]

    async def save(self, tracker: DialogueStateTracker) -> None:
        new_events = await asyncio.to_thread(self._insert_new_events, tracker)
        if self.event_broker is not None and new_events:
            # Rasa's own publishing (same message body); the broker sends in the background.
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        logger.debug("Tracker with sender_id '%s' stored to database", tracker.sender_id)

    def _insert_new_events(self, tracker: DialogueStateTracker) -> list[Event]:
        """Stores the events the database does not hold yet; returns them."""
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
            for event in new_events:
                session.add(self._row(tracker.sender_id, event))
            session.commit()
        return new_events

    def _row(self, sender_id: str, event: Event) -> Any:
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )
