"""bot.tracker_store's stores against the real PostgreSQL (127.0.0.1:5432) and SQLite.

`LeanSQLTrackerStore` serves `make run`, `ThreadedSQLTrackerStore` production;
each test works in its own scratch database. What a citizen or the press office
would notice: every message stored once and in order, the review's event stream
holding exactly what the database holds, and one slow database round trip not
freezing every other conversation on the server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import PROJECT_ROOT
from bot.db import scratch_postgres_database
from bot.tracker_store import LeanSQLTrackerStore, ThreadedSQLTrackerStore

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


class RecordingBroker:
    """An event broker that remembers what was published and what the database held then."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self.engine = engine
        self.published: list[dict[str, Any]] = []
        self.stored_when_published: list[int] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)
        with self.engine.connect() as conn:
            self.stored_when_published.append(
                conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
            )

    def is_ready(self) -> bool:
        return True


@pytest.fixture
def database() -> Iterator[str]:
    with scratch_postgres_database("test_tracker_store") as url:
        yield url


@pytest.fixture(params=["postgresql", "sqlite"])
def any_database(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """Both databases the assistant runs on: SQLite for `make run`, PostgreSQL in production."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'assistant.db'}"
    else:
        with scratch_postgres_database("test_tracker_store") as url:
            yield url


OUR_STORES = [LeanSQLTrackerStore, ThreadedSQLTrackerStore]


def turn(tracker: DialogueStateTracker, text: str, answer: str, at: float | None = None) -> None:
    at = at or time.time()
    tracker.update(UserUttered(text, {"name": "ask_press_office", "confidence": 0.9},
                               timestamp=at))
    tracker.update(ActionExecuted("utter_press_office", timestamp=at + 0.001))
    tracker.update(BotUttered(answer, timestamp=at + 0.002))
    tracker.update(ActionExecuted("action_listen", timestamp=at + 0.003))


def start_session(tracker: DialogueStateTracker, at: float | None = None) -> DialogueStateTracker:
    """What Rasa's processor adds at a session start (the session starts after the action)."""
    at = at or time.time() - 1  # before the turns that follow
    tracker.update(ActionExecuted("action_session_start", timestamp=at))
    tracker.update(SessionStarted(timestamp=at + 0.001))
    tracker.update(ActionExecuted("action_listen", timestamp=at + 0.002))
    return tracker


def new_tracker(sender: str, at: float | None = None) -> DialogueStateTracker:
    return start_session(DialogueStateTracker(sender, DOMAIN.slots), at)


def texts(tracker: DialogueStateTracker | None) -> list[str]:
    assert tracker is not None
    return [e.text for e in tracker.events if isinstance(e, UserUttered | BotUttered)]


@pytest.mark.parametrize(
    ("endpoints", "store_class"),
    [("endpoints.yml", LeanSQLTrackerStore),
     ("endpoints-production.yml", ThreadedSQLTrackerStore)],
)
def test_rasa_loads_it_from_the_endpoints(
    any_database: str, endpoints: str, store_class: type[SQLTrackerStore]
) -> None:
    import yaml

    config = yaml.safe_load((PROJECT_ROOT / endpoints).read_text())
    store = TrackerStore.create(
        EndpointConfig(type=config["tracker_store"]["type"], url=any_database), DOMAIN
    )
    # Not the in-memory store Rasa falls back to when a module path does not load.
    assert type(store) is store_class


@pytest.mark.parametrize("store_class", OUR_STORES)
def test_messages_are_stored_once_in_order_and_readable_by_rasas_own_store(
    any_database: str, store_class: type[SQLTrackerStore]
) -> None:
    database = any_database
    store = store_class(DOMAIN, host=database)
    tracker = new_tracker("citizen-1")
    turn(tracker, "Wie erreiche ich die Pressestelle?", "Antwort eins")

    async def scenario() -> DialogueStateTracker | None:
        await store.save(tracker)
        # As Rasa's processor does: each turn loads the tracker, adds events, saves.
        again = await store.retrieve("citizen-1")
        assert again is not None
        turn(again, "Und per E-Mail?", "Antwort zwei")
        await store.save(again)
        await store.save(again)  # saving an unchanged tracker adds nothing
        return await store.retrieve_full_tracker("citizen-1")

    stored = asyncio.run(scenario())
    expected = ["Wie erreiche ich die Pressestelle?", "Antwort eins", "Und per E-Mail?",
                "Antwort zwei"]
    assert texts(stored) == expected
    # The same rows as Rasa's own store writes and reads (no schema of our own).
    assert texts(asyncio.run(SQLTrackerStore(DOMAIN, host=database).retrieve("citizen-1"))) == (
        expected
    )
    with sa.create_engine(database).connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    assert count == len(stored.events)  # type: ignore[union-attr]


@pytest.mark.parametrize("store_class", OUR_STORES)
def test_a_new_session_is_read_as_rasa_reads_it(
    any_database: str, store_class: type[SQLTrackerStore]
) -> None:
    database = any_database
    store = store_class(DOMAIN, host=database)
    an_hour_ago = time.time() - 3600
    tracker = new_tracker("citizen-2", an_hour_ago)
    turn(tracker, "Alte Sitzung", "alt", an_hour_ago + 1)

    async def scenario() -> tuple[DialogueStateTracker | None, DialogueStateTracker | None]:
        await store.save(tracker)
        later = await store.retrieve("citizen-2")
        assert later is not None
        start_session(later)
        turn(later, "Neue Sitzung", "neu")
        await store.save(later)
        return await store.retrieve("citizen-2"), await store.retrieve_full_tracker("citizen-2")

    latest, full = asyncio.run(scenario())
    assert texts(latest) == ["Neue Sitzung", "neu"]
    assert texts(full) == ["Alte Sitzung", "alt", "Neue Sitzung", "neu"]
    # Event for event what Rasa's own store reads, in the session and across sessions.
    rasa = SQLTrackerStore(DOMAIN, host=database)
    assert latest is not None and full is not None
    rasa_latest = asyncio.run(rasa.retrieve("citizen-2"))
    rasa_full = asyncio.run(rasa.retrieve_full_tracker("citizen-2"))
    assert rasa_latest is not None and rasa_full is not None
    assert latest.events == rasa_latest.events
    assert full.events == rasa_full.events


def test_the_broker_gets_each_new_event_once_and_only_after_it_is_stored(
    database: str,
) -> None:
    engine = sa.create_engine(database)
    broker = RecordingBroker(engine)
    store = ThreadedSQLTrackerStore(DOMAIN, host=database, event_broker=broker)  # type: ignore[arg-type]
    tracker = new_tracker("citizen-3")
    turn(tracker, "Erste Frage", "Erste Antwort")

    async def scenario() -> DialogueStateTracker | None:
        await store.save(tracker)
        again = await store.retrieve("citizen-3")
        assert again is not None
        turn(again, "Zweite Frage", "Zweite Antwort")
        await store.save(again)
        await store.save(again)
        return await store.retrieve_full_tracker("citizen-3")

    stored = asyncio.run(scenario())
    assert stored is not None
    assert [e["event"] for e in broker.published] == [e.type_name for e in stored.events]
    assert all(e["sender_id"] == "citizen-3" for e in broker.published)
    assert [e.get("text") for e in broker.published if e["event"] in ("user", "bot")] == [
        "Erste Frage", "Erste Antwort", "Zweite Frage", "Zweite Antwort"
    ]
    # Every event was in the database when the broker got it.
    assert all(stored >= i + 1 for i, stored in enumerate(broker.stored_when_published))
    engine.dispose()


@pytest.mark.parametrize("store_class", [ThreadedSQLTrackerStore, SQLTrackerStore])
def test_a_slow_database_does_not_freeze_the_other_conversations(
    database: str, store_class: type[SQLTrackerStore]
) -> None:
    """While one conversation waits 0.3 s on the database, the event loop keeps serving.

    Rasa's own store is the control: it blocks the loop for the whole wait.
    """
    store = store_class(DOMAIN, host=database)
    tracker = new_tracker("citizen-4")
    turn(tracker, "Frage", "Antwort")
    asyncio.run(store.save(tracker))  # tables exist, connections are open

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def slow(*_: object) -> None:
        time.sleep(0.1)  # a slow network or a busy database server

    async def scenario() -> int:
        ticks = 0

        async def other_conversations() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(other_conversations())
        await asyncio.sleep(0)
        turn(tracker, "Noch eine Frage", "Noch eine Antwort")
        await store.save(tracker)
        await store.retrieve("citizen-4")
        ticker.cancel()
        return ticks

    ticks = asyncio.run(scenario())
    if store_class is ThreadedSQLTrackerStore:
        assert ticks >= 10  # several 0.1 s waits: the loop ticked all along
    else:
        assert ticks <= 2


# --- trackers kept between turns (bot/tracker_store.py, _TrackerCache) --------

def _second_turn_saved(
    store: LeanSQLTrackerStore, sender: str, at: float | None = None
) -> DialogueStateTracker:
    """A conversation in its second turn, as the server holds it after saving.

    A session's first save is never kept: the database's session starts at
    `session_started`, the tracker in memory one event earlier.
    """
    at = at or time.time() - 60
    first = new_tracker(sender, at)
    turn(first, "Frage", "Antwort", at + 1)

    async def scenario() -> DialogueStateTracker:
        await store.save(first)
        tracker = await store.retrieve(sender)
        assert tracker is not None
        turn(tracker, "Noch eine Frage", "Noch eine Antwort", at + 2)
        await store.save(tracker)
        return tracker

    return asyncio.run(scenario())

def _rasa_reads(database: str, sender: str) -> DialogueStateTracker | None:
    return asyncio.run(SQLTrackerStore(DOMAIN, host=database).retrieve(sender))


@pytest.mark.parametrize("store_class", OUR_STORES)
def test_two_servers_see_each_others_turns(
    any_database: str, store_class: type[LeanSQLTrackerStore]
) -> None:
    """Production: the turns of one conversation alternate between two servers."""
    one, two = store_class(DOMAIN, host=any_database), store_class(DOMAIN, host=any_database)
    tracker = new_tracker("citizen-5")
    turn(tracker, "Frage 1", "Antwort 1")

    async def scenario() -> list[DialogueStateTracker | None]:
        await one.save(tracker)
        for n, store in enumerate([two, one, one, two, one], start=2):
            current = await store.retrieve("citizen-5")
            assert current is not None
            turn(current, f"Frage {n}", f"Antwort {n}")
            await store.save(current)
        return [await one.retrieve("citizen-5"), await two.retrieve("citizen-5")]

    seen_by_one, seen_by_two = asyncio.run(scenario())
    rasa = _rasa_reads(any_database, "citizen-5")
    assert rasa is not None and seen_by_one is not None and seen_by_two is not None
    assert texts(seen_by_one)[-2:] == ["Frage 6", "Antwort 6"]
    assert seen_by_one.events == rasa.events == seen_by_two.events
    assert seen_by_one.current_state() == rasa.current_state()


@pytest.mark.parametrize("store_class", OUR_STORES)
def test_a_kept_tracker_is_reused_while_the_database_has_not_changed(
    any_database: str, store_class: type[LeanSQLTrackerStore]
) -> None:
    store = store_class(DOMAIN, host=any_database)
    tracker = _second_turn_saved(store, "citizen-6")
    assert asyncio.run(store.retrieve("citizen-6")) is tracker  # no load, no replay
    # Handed out once: a second retrieve before the next save loads from the database.
    again = asyncio.run(store.retrieve("citizen-6"))
    assert again is not tracker and again is not None and again.events == tracker.events


@pytest.mark.parametrize("store_class", OUR_STORES)
def test_a_turn_that_failed_before_its_save_is_not_served_from_the_cache(
    any_database: str, store_class: type[LeanSQLTrackerStore]
) -> None:
    store = store_class(DOMAIN, host=any_database)
    tracker = _second_turn_saved(store, "citizen-7")
    turn(tracker, "Nie gespeichert", "nein")  # e.g. the action server failed
    assert texts(asyncio.run(store.retrieve("citizen-7"))) == [
        "Frage", "Antwort", "Noch eine Frage", "Noch eine Antwort"]


@pytest.mark.parametrize("store_class", OUR_STORES)
def test_deleted_conversations_are_not_brought_back_by_the_cache(
    any_database: str, store_class: type[LeanSQLTrackerStore]
) -> None:
    """The retention job (or a deletion request) removes rows behind the server's back."""
    store = store_class(DOMAIN, host=any_database)
    _second_turn_saved(store, "citizen-8")
    engine = sa.create_engine(any_database)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM events WHERE sender_id = 'citizen-8'"))
    engine.dispose()
    assert asyncio.run(store.retrieve("citizen-8")) is None


@pytest.mark.parametrize("store_class", OUR_STORES)
def test_a_session_started_on_the_other_server_is_read_as_rasa_reads_it(
    any_database: str, store_class: type[LeanSQLTrackerStore]
) -> None:
    one, two = store_class(DOMAIN, host=any_database), store_class(DOMAIN, host=any_database)
    _second_turn_saved(one, "citizen-9", time.time() - 3600)  # kept by the first server

    async def scenario() -> DialogueStateTracker | None:
        other = await two.retrieve("citizen-9")
        assert other is not None
        start_session(other)
        turn(other, "Neue Sitzung", "neu")
        await two.save(other)
        return await one.retrieve("citizen-9")

    latest = asyncio.run(scenario())
    rasa = _rasa_reads(any_database, "citizen-9")
    assert texts(latest) == ["Neue Sitzung", "neu"]
    assert rasa is not None and latest is not None and latest.events == rasa.events


def test_a_new_model_drops_the_kept_trackers(tmp_path: Any) -> None:
    store = LeanSQLTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'assistant.db'}")
    tracker = _second_turn_saved(store, "citizen-10")
    store.domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))  # what Agent does on a reload
    again = asyncio.run(store.retrieve("citizen-10"))
    assert again is not tracker and again is not None and again.events == tracker.events


def test_the_cache_is_bounded_and_can_be_switched_off(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'assistant.db'}"
    small = LeanSQLTrackerStore(DOMAIN, host=url, tracker_cache_size=2)
    off = LeanSQLTrackerStore(DOMAIN, host=url, tracker_cache_size=0)
    trackers = [_second_turn_saved(small, f"citizen-{n}") for n in range(3)]
    assert asyncio.run(small.retrieve("citizen-0")) is not trackers[0]  # the oldest went
    assert asyncio.run(small.retrieve("citizen-2")) is trackers[2]
    kept_off = _second_turn_saved(off, "citizen-3")
    again = asyncio.run(off.retrieve("citizen-3"))
    assert again is not kept_off and again is not None and again.events == kept_off.events
