"""Rasa's SQL tracker store, cheaper per turn: Core statements, and off the loop in production.

`LeanSQLTrackerStore` (`make run`, endpoints.yml) keeps Rasa's table, queries
and session semantics but runs them as prepared SQLAlchemy Core statements:
Rasa's store builds an ORM query per call, turns every stored event into an
ORM object to read one column, counts the stored events through an ORM
sub-select and inserts new events through the ORM's unit of work. Measured per
turn in docs/performance.md.

`ThreadedSQLTrackerStore` (production, `endpoints-production.yml`): Rasa 3.6's
`SQLTrackerStore` runs every query synchronously inside the event loop, and
with an event broker each `save` first loads the whole tracker a second time
only to find which events are new. Measured on PostgreSQL
(bench/profile_turn.py --production, docs/performance.md): about 4.5 ms of
every turn the server's only event-loop thread waited on the database, and
the second load cost about 3.5 ms of CPU.

This store runs the database work in a worker thread (the loop serves other
conversations while PostgreSQL answers) and finds the new events with the
count query Rasa's save already makes. Events are published to the broker
after the commit, so a consumer never sees an event the tracker store does
not hold. The lock store makes sure one conversation is saved by one server
at a time, as before.
Both are loaded by module path from the endpoints files.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)


class LeanSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` with the same rows and reads, without the ORM per event."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        events = self.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        # Rasa's `_event_query`: the events since the latest session start (all
        # events if there is none), in the order they were stored.
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(events.c.sender_id == sender,
                   events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        since_start = sa.or_(events.c.timestamp >= session_start, session_start.is_(None))
        self._all_rows = (
            sa.select(events.c.data).where(events.c.sender_id == sender).order_by(events.c.id)
        )
        self._session_rows = self._all_rows.where(since_start)
        self._session_count = (
            sa.select(sa.func.count()).select_from(events)
            .where(events.c.sender_id == sender, since_start)
        )
        self._insert = events.insert()

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        return self._tracker(sender_id, self._load_rows(sender_id, fetch_events_from_all_sessions))

    def _tracker(self, sender_id: str, rows: list[str]) -> DialogueStateTracker | None:
        if not (self.domain and rows):
            return None
        return DialogueStateTracker.from_dict(
            sender_id, [json.loads(data) for data in rows], self.domain.slots
        )

    def _load_rows(self, sender_id: str, fetch_events_from_all_sessions: bool) -> list[str]:
        query = self._all_rows if fetch_events_from_all_sessions else self._session_rows
        with self.session_scope() as session:
            return list(session.execute(query, {"sender_id": sender_id}).scalars())

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._publish(tracker, self._insert_new_events(tracker))

    async def _publish(self, tracker: DialogueStateTracker, new_events: list[Event]) -> None:
        # After the commit, so the stream never holds an event the database lacks;
        # Rasa's own publishing (same message body), sent in the background.
        if self.event_broker is not None and new_events:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        logger.debug("Tracker with sender_id '%s' stored to database", tracker.sender_id)

    def _insert_new_events(self, tracker: DialogueStateTracker) -> list[Event]:
        """Stores the events the database does not hold yet; returns them."""
        with self.session_scope() as session:
            stored = session.execute(self._session_count,
                                     {"sender_id": tracker.sender_id}).scalar_one()
            new_events = list(itertools.islice(tracker.events, stored, None))
            if new_events:
                session.execute(self._insert, [self._row(tracker.sender_id, event)
                                               for event in new_events])
                session.commit()
        return new_events

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """The columns Rasa's `SQLTrackerStore.save` fills, filled the same way."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }


class ThreadedSQLTrackerStore(LeanSQLTrackerStore):
    """`LeanSQLTrackerStore` whose database round trips run off the event loop."""

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        rows = await asyncio.to_thread(self._load_rows, sender_id, fetch_events_from_all_sessions)
        # Replaying the events is CPU work: in the loop's thread, as in Rasa.
        return self._tracker(sender_id, rows)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._publish(tracker, await asyncio.to_thread(self._insert_new_events, tracker))
