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
Both keep the trackers they saved last (`_TrackerCache`): the next turn of a
conversation then costs one small query instead of loading and replaying the
whole session, which grows with the conversation. A kept tracker is used only
when the database still holds exactly what this server saved (number of rows
and highest row id of the conversation); if another server has added turns
since, only those rows are read and applied; anything else (a new session,
rows deleted by the retention job, a tracker changed after its save, a new
model's domain) means a full load, as without the cache. The lock store makes
sure no other server writes the conversation while this one works on it.
Both are loaded by module path from the endpoints files.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)


# Conversations whose tracker a server keeps between turns (least recently used
# ones are dropped); endpoints: `tracker_cache_size`, 0 turns the cache off.
TRACKER_CACHE_SIZE = 256


@dataclass(frozen=True)
class Stamp:
    """What the database holds of one conversation: its rows and the highest row id."""

    rows: int
    last_id: int


@dataclass(frozen=True)
class Cached:
    tracker: DialogueStateTracker
    events: int  # len(tracker.events) at the save: more means changed since
    stamp: Stamp


class _TrackerCache:
    """The trackers this server saved last, each handed out once (see the module doc)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, Cached] = OrderedDict()

    def take(self, sender_id: str) -> Cached | None:
        # Taken out, not read: whoever retrieves the tracker may change it, and
        # only its next save puts it back.
        entry = self._entries.pop(sender_id, None)
        if entry is not None and len(entry.tracker.events) != entry.events:
            return None
        return entry

    def put(self, tracker: DialogueStateTracker, stamp: Stamp) -> None:
        if self.size <= 0:
            return
        self._entries[tracker.sender_id] = Cached(tracker, len(tracker.events), stamp)
        self._entries.move_to_end(tracker.sender_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


class LeanSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` with the same rows and reads, without the ORM per event."""

    def __init__(self, *args: Any, tracker_cache_size: int = TRACKER_CACHE_SIZE,
                 **kwargs: Any) -> None:
        self._cache = _TrackerCache(int(tracker_cache_size))
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
        self._stamp_query = (
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(events.c.id), 0))
            .where(events.c.sender_id == sender)
        )
        self._rows_after = (
            sa.select(events.c.type_name, events.c.data)
            .where(events.c.sender_id == sender, events.c.id > sa.bindparam("last_id"))
            .order_by(events.c.id)
        )

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        # A new model (`bot reload`) may bring other slots: kept trackers go.
        self._domain = domain or Domain.empty()
        self._cache.clear()

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        if fetch_events_from_all_sessions:
            return self._tracker(sender_id, self._load_rows(sender_id, True))
        cached = self._cache.take(sender_id)
        if cached is not None:
            newer = self._newer_rows(sender_id, cached.stamp)
            if newer is not None:
                return self._brought_up_to_date(cached.tracker, newer)
        return self._tracker(sender_id, self._load_rows(sender_id, False))

    def _newer_rows(self, sender_id: str, stamp: Stamp) -> list[str] | None:
        """The rows other servers added since `stamp`; None if a full load is needed."""
        with self.session_scope() as session:
            rows, last_id = session.execute(self._stamp_query, {"sender_id": sender_id}).one()
            if (rows, last_id) == (stamp.rows, stamp.last_id):
                return []
            if rows <= stamp.rows or last_id <= stamp.last_id:
                return None  # rows deleted (retention job, GDPR request)
            newer = session.execute(
                self._rows_after, {"sender_id": sender_id, "last_id": stamp.last_id}
            ).all()
        if len(newer) != rows - stamp.rows or any(
            type_name == SessionStarted.type_name for type_name, _ in newer
        ):
            return None  # a new session, or not simply appended
        return [data for _, data in newer]

    @staticmethod
    def _brought_up_to_date(tracker: DialogueStateTracker, rows: list[str]) -> DialogueStateTracker:
        # The same replay as DialogueStateTracker.from_dict, for the new events only.
        for event in deserialise_events([json.loads(data) for data in rows]):
            tracker.update(event)
        return tracker

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
        new_events, stamp = self._insert_new_events(tracker)
        self._keep(tracker, stamp)
        await self._publish(tracker, new_events)

    def _keep(self, tracker: DialogueStateTracker, stamp: Stamp | None) -> None:
        if stamp is not None:
            self._cache.put(tracker, stamp)

    async def _publish(self, tracker: DialogueStateTracker, new_events: list[Event]) -> None:
        # After the commit, so the stream never holds an event the database lacks;
        # Rasa's own publishing (same message body), sent in the background.
        if self.event_broker is not None and new_events:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        logger.debug("Tracker with sender_id '%s' stored to database", tracker.sender_id)

    def _insert_new_events(self, tracker: DialogueStateTracker) -> tuple[list[Event], Stamp | None]:
        """Stores the events the database does not hold yet; returns them and, if the
        tracker may be kept, the conversation's stamp after the commit."""
        with self.session_scope() as session:
            stored = session.execute(self._session_count,
                                     {"sender_id": tracker.sender_id}).scalar_one()
            new_events = list(itertools.islice(tracker.events, stored, None))
            if new_events:
                session.execute(self._insert, [self._row(tracker.sender_id, event)
                                               for event in new_events])
                session.commit()
            # Kept only if it holds exactly the session's rows: not a tracker
            # that starts a new session or spans several (retrieve_full_tracker).
            if self._cache.size <= 0 or len(tracker.events) != stored + len(new_events) or any(
                isinstance(event, SessionStarted) for event in new_events
            ):
                return new_events, None
            rows, last_id = session.execute(
                self._stamp_query, {"sender_id": tracker.sender_id}
            ).one()
        return new_events, Stamp(rows, last_id)

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
        cached = None if fetch_events_from_all_sessions else self._cache.take(sender_id)
        if cached is not None:
            newer = await asyncio.to_thread(self._newer_rows, sender_id, cached.stamp)
            if newer is not None:
                return self._brought_up_to_date(cached.tracker, newer)
        rows = await asyncio.to_thread(self._load_rows, sender_id, fetch_events_from_all_sessions)
        # Replaying the events is CPU work: in the loop's thread, as in Rasa.
        return self._tracker(sender_id, rows)

    async def save(self, tracker: DialogueStateTracker) -> None:
        new_events, stamp = await asyncio.to_thread(self._insert_new_events, tracker)
        self._keep(tracker, stamp)  # in the loop's thread, as every use of the cache
        await self._publish(tracker, new_events)
