"""Read and change the data the review app shows (SQLAlchemy Core).

Conversations are never copied: the list is an aggregate over the user events
of Rasa's `events` table, computed per request with the indexes from
`bot.review.models`; flags and details are computed for the shown page only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot import db, settings
from bot.review import auth
from bot.review import models as m
from bot.review.privacy import mask, preview, shown

TZ = ZoneInfo("Europe/Berlin")
LOW_CONFIDENCE = 0.7
FALLBACK_INTENTS = ("nlu_fallback", "out_of_scope")
# A conversation is a visitor request when the intent was recognised or the form ran.
VISITOR_INTENT = "request_visitor_group"
VISITOR_FORM = "visitor_group_form"
FLAGS = {
    "urgent": "Notfall (110)",
    "fallback": "Nicht verstanden / außerhalb",
    "low_confidence": "Geringe Sicherheit",
    "visitor_request": "Besuchsanfrage",
    "negative_feedback": "Negative Rückmeldung",
}
REVIEW_STATES = {"open": "Offen", "reviewed": "Geprüft"}
PAGE_SIZE = 50

e = m.events


# --- dialect helpers --------------------------------------------------------------
def _is_pg(conn: sa.engine.Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _json_text(conn: sa.engine.Connection) -> sa.sql.ColumnElement:
    if _is_pg(conn):
        return sa.literal_column("(CAST(events.data AS json) ->> 'text')")
    return sa.func.json_extract(e.c.data, "$.text")


def _json_confidence(conn: sa.engine.Connection) -> sa.sql.ColumnElement:
    if _is_pg(conn):
        return sa.literal_column(
            "CAST(CAST(events.data AS json) #>> '{parse_data,intent,confidence}' AS float)"
        )
    return sa.func.json_extract(e.c.data, "$.parse_data.intent.confidence")


def _day(conn: sa.engine.Connection, offset: float) -> sa.sql.ColumnElement:
    """Day number (days since 1970 in local time) of an event."""
    if _is_pg(conn):
        return sa.func.floor((e.c.timestamp + offset) / 86400)
    return sa.cast((e.c.timestamp + offset) / 86400, sa.Integer)


def like_pattern(term: str) -> str:
    """A LIKE pattern matching `term` literally (escape character backslash)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ascii_fragment(term: str) -> str | None:
    """The longest piece of `term` that JSON text stores unchanged (printable ASCII
    without quote and backslash), when it is long enough to narrow a search.

    Every message containing `term` contains this piece in its raw JSON, however the
    JSON was written (with or without \\u escapes), so it is a safe pre-filter.
    """
    runs = re.findall(r"[\x20\x21\x23-\x5b\x5d-\x7e]+", term)
    best = max(runs, key=len, default="")
    return best if len(best.strip()) >= 3 else None


def local_time(ts: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(ts, TZ) if ts is not None else None


def _day_start(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), TZ).timestamp()


# --- conversation list --------------------------------------------------------------
@dataclass
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    intent: str = ""
    flag: str = ""
    status: str = ""
    tag: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, get: Any) -> Filters:
        def date(name: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat((get(name) or "").strip())
            except ValueError:
                return None

        try:
            page = max(1, min(100_000, int(get("page") or 1)))
        except ValueError:
            page = 1
        flag = get("flag") or ""
        status = get("status") or ""
        return cls(
            date_from=date("from"),
            date_to=date("to"),
            intent=(get("intent") or "").strip()[:255],
            flag=flag if flag in FLAGS else "",
            status=status if status in REVIEW_STATES else "",
            tag=(get("tag") or "").strip()[:64],
            q=(get("q") or "").strip()[:200],
            page=page,
        )

    def query_args(self, **override: Any) -> dict[str, str]:
        values = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "intent": self.intent,
            "flag": self.flag,
            "status": self.status,
            "tag": self.tag,
            "q": self.q,
            "page": str(self.page),
        }
        values.update({k: str(v) for k, v in override.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


@dataclass
class ConversationRow:
    sender_id: str
    first_ts: float
    last_ts: float
    turns: int
    first_message: str = ""
    intents: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    reviewed: bool = False
    tags: list[str] = field(default_factory=list)

    @property
    def last_time(self) -> dt.datetime | None:
        return local_time(self.last_ts)


def _senders_with(*conds: sa.sql.ColumnElement) -> sa.sql.Select:
    return sa.select(e.c.sender_id).where(*conds)


def _conditions(conn: sa.engine.Connection, f: Filters) -> list[sa.sql.ColumnElement]:
    period: list[sa.sql.ColumnElement] = []
    if f.date_from:
        period.append(e.c.timestamp >= _day_start(f.date_from))
    if f.date_to:
        period.append(e.c.timestamp < _day_start(f.date_to + dt.timedelta(days=1)))
    conds: list[sa.sql.ColumnElement] = [e.c.type_name == "user", *period]
    if f.intent:
        conds.append(e.c.sender_id.in_(_senders_with(e.c.intent_name == f.intent)))
    if f.flag == "urgent":
        conds.append(
            e.c.sender_id.in_(
                _senders_with(e.c.action_name == "utter_emergency", e.c.type_name == "action")
            )
        )
    elif f.flag == "fallback":
        conds.append(
            sa.or_(
                e.c.sender_id.in_(
                    _senders_with(e.c.action_name == "action_fallback", e.c.type_name == "action")
                ),
                e.c.sender_id.in_(_senders_with(e.c.intent_name.in_(FALLBACK_INTENTS))),
            )
        )
    elif f.flag == "low_confidence":
        conds.append(
            e.c.sender_id.in_(
                _senders_with(
                    e.c.type_name == "user", *period, _json_confidence(conn) < LOW_CONFIDENCE
                )
            )
        )
    elif f.flag == "visitor_request":
        conds.append(
            sa.or_(
                e.c.sender_id.in_(_senders_with(e.c.intent_name == VISITOR_INTENT)),
                e.c.sender_id.in_(
                    _senders_with(e.c.action_name == VISITOR_FORM, e.c.type_name == "active_loop")
                ),
            )
        )
    elif f.flag == "negative_feedback":
        feedback = db.chat_feedback
        conds.append(
            e.c.sender_id.in_(
                sa.select(feedback.c.sender_id).where(feedback.c.helpful.is_(False))
            )
        )
    reviewed = sa.select(m.conversation_reviews.c.sender_id)
    if f.status == "reviewed":
        conds.append(e.c.sender_id.in_(reviewed))
    elif f.status == "open":
        conds.append(e.c.sender_id.not_in(reviewed))
    if f.tag:
        conds.append(e.c.sender_id.in_(sa.select(m.tags.c.sender_id).where(m.tags.c.tag == f.tag)))
    if f.q:
        text = _json_text(conn)
        pattern = like_pattern(f.q)
        match = (
            text.ilike(pattern, escape="\\")
            if _is_pg(conn)
            else sa.func.review_lower(text).like(pattern.lower(), escape="\\")
        )
        fragment = _ascii_fragment(f.q)
        if fragment:  # cheap test on the raw JSON first, JSON is parsed only for hits
            raw = like_pattern(fragment)
            prefilter = (
                e.c.data.ilike(raw, escape="\\")
                if _is_pg(conn)
                else e.c.data.like(raw, escape="\\")  # ASCII case-insensitive
            )
            match = sa.and_(prefilter, match)
        # JSON is parsed for every user message: the period narrows that down
        conds.append(e.c.sender_id.in_(_senders_with(e.c.type_name == "user", *period, match)))
    return conds


def list_conversations(
    eng: sa.engine.Engine, f: Filters, page_size: int = PAGE_SIZE
) -> tuple[list[ConversationRow], int]:
    """One page of conversations (newest activity first) and the total count."""
    with eng.connect() as conn:
        conds = _conditions(conn, f)
        last_ts = sa.func.max(e.c.timestamp).label("last_ts")
        grouped = (
            sa.select(
                e.c.sender_id,
                sa.func.min(e.c.timestamp).label("first_ts"),
                last_ts,
                sa.func.count().label("turns"),
            )
            .where(*conds)
            .group_by(e.c.sender_id)
        )
        # one pass: the window function counts all groups before LIMIT applies
        rows = conn.execute(
            grouped.add_columns(sa.func.count().over().label("total"))
            .order_by(last_ts.desc(), e.c.sender_id.desc())
            .limit(page_size)
            .offset((f.page - 1) * page_size)
        ).all()
        if rows:
            total = rows[0].total
        else:  # past the last page
            total = conn.execute(
                sa.select(sa.func.count()).select_from(
                    sa.select(e.c.sender_id).where(*conds).group_by(e.c.sender_id).subquery()
                )
            ).scalar_one()
        result = [
            ConversationRow(r.sender_id, r.first_ts or 0.0, r.last_ts or 0.0, r.turns) for r in rows
        ]
        _add_details(conn, result)
    return result, int(total)


def _add_details(conn: sa.engine.Connection, rows: list[ConversationRow]) -> None:
    if not rows:
        return
    by_sender = {row.sender_id: row for row in rows}
    ids = list(by_sender)
    events = conn.execute(
        sa.select(e.c.sender_id, e.c.type_name, e.c.intent_name, e.c.action_name, e.c.data)
        .where(
            e.c.sender_id.in_(ids),
            sa.or_(
                e.c.type_name == "user",
                sa.and_(
                    e.c.type_name == "action",
                    e.c.action_name.in_(("utter_emergency", "action_fallback")),
                ),
                sa.and_(e.c.type_name == "active_loop", e.c.action_name == VISITOR_FORM),
            ),
        )
        .order_by(e.c.id)
    )
    intents: dict[str, Counter[str]] = {sid: Counter() for sid in ids}
    flags: dict[str, set[str]] = {sid: set() for sid in ids}
    for ev in events:
        row = by_sender[ev.sender_id]
        if ev.type_name == "user":
            data = _load(ev.data)
            if not row.first_message:
                row.first_message = preview(str(data.get("text") or ""))
            if ev.intent_name:
                intents[ev.sender_id][ev.intent_name] += 1
            if ev.intent_name in FALLBACK_INTENTS:
                flags[ev.sender_id].add("fallback")
            elif ev.intent_name == VISITOR_INTENT:
                flags[ev.sender_id].add("visitor_request")
            confidence = _confidence(data)
            if confidence is not None and confidence < LOW_CONFIDENCE:
                flags[ev.sender_id].add("low_confidence")
        elif ev.action_name == "utter_emergency":
            flags[ev.sender_id].add("urgent")
        elif ev.action_name == "action_fallback":
            flags[ev.sender_id].add("fallback")
        else:
            flags[ev.sender_id].add("visitor_request")
    for r in conn.execute(
        sa.select(db.chat_feedback.c.sender_id).where(
            db.chat_feedback.c.sender_id.in_(ids), db.chat_feedback.c.helpful.is_(False)
        )
    ):
        flags[r.sender_id].add("negative_feedback")
    for sid, row in by_sender.items():
        row.intents = [name for name, _ in intents[sid].most_common()]
        row.flags = [flag for flag in FLAGS if flag in flags[sid]]
    reviewed = conn.execute(
        sa.select(m.conversation_reviews.c.sender_id).where(
            m.conversation_reviews.c.sender_id.in_(ids)
        )
    )
    for r in reviewed:
        by_sender[r.sender_id].reviewed = True
    for t in conn.execute(
        sa.select(m.tags.c.sender_id, m.tags.c.tag)
        .where(m.tags.c.sender_id.in_(ids))
        .order_by(m.tags.c.tag)
    ):
        by_sender[t.sender_id].tags.append(t.tag)


def _load(data: str | None) -> dict[str, Any]:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _confidence(data: dict[str, Any]) -> float | None:
    intent = (data.get("parse_data") or {}).get("intent") or {}
    value = intent.get("confidence")
    return float(value) if isinstance(value, (int, float)) else None


def known_intents(eng: sa.engine.Engine) -> list[str]:
    """Intent names that occur in the tracker store (for the filter)."""
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(e.c.intent_name)
            .where(e.c.intent_name.is_not(None))
            .group_by(e.c.intent_name)
            .order_by(e.c.intent_name)
        )
        return [r.intent_name for r in rows]


# --- transcript ------------------------------------------------------------------------
@dataclass
class Turn:
    event_id: int
    kind: str  # user, bot, marker
    time: dt.datetime | None
    text: str
    intent: str | None = None
    confidence: float | None = None
    urgent: bool = False
    urgency_reasons: list[str] = field(default_factory=list)
    correction: str | None = None
    feedback: bool | None = None  # bot turns: helpful (True), not helpful (False)
    feedback_comment: str | None = None


@dataclass
class Transcript:
    sender_id: str
    turns: list[Turn]
    flags: list[str]
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    tags: list[str]


MARKERS = {
    "session_started": "Neue Sitzung",
    "utter_emergency": "Notfallantwort (110) gegeben",
    "action_fallback": "Rückfrage: Anliegen nicht verstanden",
}


def transcript(eng: sa.engine.Engine, sender_id: str, reveal: bool = False) -> Transcript | None:
    """The conversation as shown: texts cut to what a page shows, e-mail addresses
    and phone numbers masked unless `reveal` (an audited action of the app)."""

    def text_of(data: dict[str, Any]) -> str:
        text = shown(str(data.get("text") or ""))
        return text if reveal else mask(text)

    with eng.connect() as conn:
        rows = conn.execute(sa.select(e).where(e.c.sender_id == sender_id).order_by(e.c.id)).all()
        if not rows:
            return None
        corrections = {
            r.event_id: r.corrected_intent
            for r in conn.execute(
                sa.select(m.corrections).where(m.corrections.c.sender_id == sender_id)
            )
        }
        review = conn.execute(
            sa.select(m.conversation_reviews).where(m.conversation_reviews.c.sender_id == sender_id)
        ).first()
        tag_list = [
            r.tag
            for r in conn.execute(
                sa.select(m.tags.c.tag).where(m.tags.c.sender_id == sender_id).order_by("tag")
            )
        ]
        feedback = {
            round(r.answer_ts, 6): (r.helpful, r.comment)
            for r in conn.execute(
                sa.select(db.chat_feedback).where(db.chat_feedback.c.sender_id == sender_id)
            )
        }
    turns: list[Turn] = []
    flags: set[str] = set()
    for row in rows:
        data = _load(row.data)
        when = local_time(row.timestamp)
        if row.type_name == "user":
            parse = data.get("parse_data") or {}
            urgency = parse.get("urgency") or {}
            confidence = _confidence(data)
            if row.intent_name in FALLBACK_INTENTS:
                flags.add("fallback")
            elif row.intent_name == VISITOR_INTENT:
                flags.add("visitor_request")
            if confidence is not None and confidence < LOW_CONFIDENCE:
                flags.add("low_confidence")
            turns.append(
                Turn(
                    event_id=row.id,
                    kind="user",
                    time=when,
                    text=text_of(data),
                    intent=row.intent_name,
                    confidence=confidence,
                    urgent=bool(urgency.get("urgent")),
                    urgency_reasons=[str(r) for r in urgency.get("reasons") or []],
                    correction=corrections.get(row.id),
                )
            )
        elif row.type_name == "bot":
            turn = Turn(row.id, "bot", when, text_of(data))
            helpful, comment = feedback.get(round(row.timestamp or 0.0, 6), (None, None))
            if comment and not reveal:  # free text of the citizen: masked like the messages
                comment = mask(shown(str(comment)))
            turn.feedback, turn.feedback_comment = helpful, comment
            if helpful is False:
                flags.add("negative_feedback")
            turns.append(turn)
        elif row.type_name == "session_started":
            turns.append(Turn(row.id, "marker", when, MARKERS["session_started"]))
        elif row.type_name == "action" and row.action_name in MARKERS:
            flags.add("urgent" if row.action_name == "utter_emergency" else "fallback")
            turns.append(Turn(row.id, "marker", when, MARKERS[row.action_name]))
        elif row.type_name == "active_loop" and row.action_name == VISITOR_FORM:
            flags.add("visitor_request")
            turns.append(Turn(row.id, "marker", when, "Formular Besuchsanfrage gestartet"))
    return Transcript(
        sender_id=sender_id,
        turns=turns,
        flags=[flag for flag in FLAGS if flag in flags],
        reviewed_by=review.reviewed_by if review else None,
        reviewed_at=review.reviewed_at if review else None,
        tags=tag_list,
    )


# --- review actions (each writes the audit log) -------------------------------------------
def _conversation_exists(conn: sa.engine.Connection, sender_id: str) -> bool:
    return (
        conn.execute(sa.select(e.c.id).where(e.c.sender_id == sender_id).limit(1)).first()
        is not None
    )


def set_reviewed(eng: sa.engine.Engine, sender_id: str, reviewed: bool, actor: str) -> bool:
    with eng.begin() as conn:
        if not _conversation_exists(conn, sender_id):
            return False
        table = m.conversation_reviews
        conn.execute(table.delete().where(table.c.sender_id == sender_id))
        if reviewed:
            conn.execute(
                table.insert().values(
                    sender_id=sender_id, reviewed_by=actor, reviewed_at=db.utcnow()
                )
            )
        m.audit(conn, actor, "review" if reviewed else "review_undo", sender_id)
    return True


def add_tag(eng: sa.engine.Engine, sender_id: str, tag: str, actor: str) -> bool:
    tag = " ".join(tag.split())[:64]
    if not tag:
        return False
    with eng.begin() as conn:
        if not _conversation_exists(conn, sender_id):
            return False
        exists = conn.execute(
            sa.select(m.tags.c.tag).where(m.tags.c.sender_id == sender_id, m.tags.c.tag == tag)
        ).first()
        if not exists:
            conn.execute(
                m.tags.insert().values(
                    sender_id=sender_id, tag=tag, created_by=actor, created_at=db.utcnow()
                )
            )
            m.audit(conn, actor, "tag_add", sender_id, tag)
    return True


def remove_tag(eng: sa.engine.Engine, sender_id: str, tag: str, actor: str) -> None:
    with eng.begin() as conn:
        result = conn.execute(
            m.tags.delete().where(m.tags.c.sender_id == sender_id, m.tags.c.tag == tag)
        )
        if result.rowcount:
            m.audit(conn, actor, "tag_remove", sender_id, tag)


def correct_intent(
    eng: sa.engine.Engine, sender_id: str, event_id: int, intent: str | None, actor: str
) -> bool:
    """Store (or, with intent None, remove) the intent a user message should have had."""
    with eng.begin() as conn:
        row = conn.execute(
            sa.select(e).where(
                e.c.id == event_id, e.c.sender_id == sender_id, e.c.type_name == "user"
            )
        ).first()
        if row is None:
            return False
        conn.execute(m.corrections.delete().where(m.corrections.c.event_id == event_id))
        # A changed label is a new decision: it waits for export again.
        conn.execute(
            m.training_status.delete().where(m.training_status.c.event_id == event_id)
        )
        if intent:
            conn.execute(
                m.corrections.insert().values(
                    event_id=event_id,
                    sender_id=sender_id,
                    text=str(_load(row.data).get("text") or ""),
                    predicted_intent=row.intent_name,
                    corrected_intent=intent,
                    created_by=actor,
                    created_at=db.utcnow(),
                )
            )
        m.audit(
            conn,
            actor,
            "correction" if intent else "correction_remove",
            sender_id,
            f"Nachricht {event_id}: {row.intent_name} -> {intent or '(entfernt)'}",
        )
    return True


def _delete_conversations(conn: sa.engine.Connection, senders: list[str]) -> int:
    deleted = 0
    for start in range(0, len(senders), 500):
        chunk = senders[start : start + 500]
        deleted += conn.execute(e.delete().where(e.c.sender_id.in_(chunk))).rowcount
        for table in (
            m.conversation_reviews, m.tags, m.corrections, m.training_status, db.chat_feedback
        ):
            conn.execute(table.delete().where(table.c.sender_id.in_(chunk)))
    return deleted


def delete_conversation(eng: sa.engine.Engine, sender_id: str, actor: str) -> int:
    """Delete one conversation on request (with its review data); returns events deleted."""
    with eng.begin() as conn:
        deleted = _delete_conversations(conn, [sender_id])
        if deleted:
            m.audit(conn, actor, "conversation_delete", sender_id, f"{deleted} Ereignisse")
    return deleted


# --- retention ----------------------------------------------------------------------------
MAX_RETENTION_DAYS = 36500  # beyond, the cut-off date does not exist


@dataclass(frozen=True)
class RetentionResult:
    conversations: int
    events: int
    visitor_requests: int
    audit_entries: int = 0


def apply_retention(
    eng: sa.engine.Engine,
    days: int,
    actor: str,
    now: float | None = None,
    audit_days: int | None = None,
) -> RetentionResult:
    """Delete conversations whose last event, and visitor requests created, more than
    `days` days ago; audit-log entries older than `audit_days` (default
    BOT_AUDIT_RETENTION_DAYS: they name sender ids, references and free-text tags)."""
    audit_days = settings.audit_retention_days() if audit_days is None else audit_days
    for value in (days, audit_days):
        if not 1 <= value <= MAX_RETENTION_DAYS:
            raise ValueError(f"retention periods are 1 to {MAX_RETENTION_DAYS} days, not {value}")
    now = now or time.time()
    cutoff = now - days * 86400
    with eng.begin() as conn:
        senders = [
            r.sender_id
            for r in conn.execute(
                sa.select(e.c.sender_id)
                .group_by(e.c.sender_id)
                .having(sa.func.max(e.c.timestamp) < cutoff)
            )
        ]
        n_events = _delete_conversations(conn, senders)
        cutoff_dt = dt.datetime.fromtimestamp(cutoff, dt.timezone.utc)
        n_requests = conn.execute(
            m.visitor_requests.delete().where(m.visitor_requests.c.created_at < cutoff_dt)
        ).rowcount
        conn.execute(m.sessions.delete().where(m.sessions.c.expires_at < now))
        conn.execute(
            m.login_failures.delete().where(
                m.login_failures.c.last_failure_at < now - 86400,
                m.login_failures.c.locked_until < now,
            )
        )
        conn.execute(
            m.known_devices.delete().where(
                m.known_devices.c.last_used_at < now - auth.KNOWN_DEVICE_DAYS * 86400
            )
        )
        audit_cutoff = dt.datetime.fromtimestamp(now - audit_days * 86400, dt.timezone.utc)
        n_audit = conn.execute(
            m.audit_log.delete().where(m.audit_log.c.at < audit_cutoff)
        ).rowcount
        m.audit(
            conn,
            actor,
            "retention",
            f"älter als {days} Tage",
            f"{len(senders)} Gespräche ({n_events} Ereignisse), {n_requests} Besuchsanfragen, "
            f"{n_audit} Protokolleinträge (älter als {audit_days} Tage)",
        )
    m.refresh_statistics(eng)
    return RetentionResult(len(senders), n_events, n_requests, n_audit)


# --- corrections export ---------------------------------------------------------------------
def export_corrections(eng: sa.engine.Engine) -> str:
    """Rasa NLU training data (YAML, version 3.1) with the corrected examples."""
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(m.corrections.c.text, m.corrections.c.corrected_intent)
            .where(  # a person said "not training data"
                m.corrections.c.event_id.not_in(
                    sa.select(m.training_status.c.event_id).where(
                        m.training_status.c.status == "ignored"
                    )
                )
            )
            .order_by(
                m.corrections.c.corrected_intent, m.corrections.c.event_id
            )
        ).all()
    by_intent: dict[str, list[str]] = {}
    for row in rows:
        text = " ".join(row.text.split())
        if text and text not in by_intent.setdefault(row.corrected_intent, []):
            by_intent[row.corrected_intent].append(text)
    lines = [
        "# Korrigierte Beispiele aus der Gesprächsprüfung (bot export corrections).",
        "# Vor dem Übernehmen in data/ lesen: keine personenbezogenen Daten übernehmen.",
        'version: "3.1"',
        "nlu:" if by_intent else "nlu: []",
    ]
    for intent, texts in by_intent.items():
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in texts)
    return "\n".join(lines) + "\n"


# --- overview statistics ------------------------------------------------------------------
@dataclass
class Overview:
    days: list[dt.date]
    conversations_per_day: list[int]
    urgent_per_day: list[int]
    top_intents: list[tuple[str, int]]
    messages: int
    fallback_messages: int
    conversations: int
    urgent: int
    open_requests: int

    @property
    def fallback_share(self) -> float:
        return self.fallback_messages / self.messages if self.messages else 0.0


def overview(eng: sa.engine.Engine, n_days: int = 30, now: float | None = None) -> Overview:
    now = now or time.time()
    today = dt.datetime.fromtimestamp(now, TZ).date()
    first = today - dt.timedelta(days=n_days - 1)
    since = _day_start(first)
    offset = dt.datetime.fromtimestamp(now, TZ).utcoffset().total_seconds()  # type: ignore[union-attr]
    days = [first + dt.timedelta(days=i) for i in range(n_days)]
    epoch = dt.date(1970, 1, 1)
    index = {(d - epoch).days: i for i, d in enumerate(days)}
    conv = [0] * n_days
    urgent = [0] * n_days
    with eng.connect() as conn:
        day = _day(conn, offset).label("day")
        recent_user = sa.and_(e.c.type_name == "user", e.c.timestamp >= since)
        for r in conn.execute(
            sa.select(day, sa.func.count(sa.distinct(e.c.sender_id)).label("n"))
            .where(recent_user)
            .group_by(day)
        ):
            if int(r.day) in index:
                conv[index[int(r.day)]] = r.n
        for r in conn.execute(
            sa.select(day, sa.func.count().label("n"))
            .where(
                e.c.type_name == "action",
                e.c.action_name == "utter_emergency",
                e.c.timestamp >= since,
            )
            .group_by(day)
        ):
            if int(r.day) in index:
                urgent[index[int(r.day)]] = r.n
        intents = conn.execute(
            sa.select(e.c.intent_name, sa.func.count().label("n"))
            .where(recent_user)
            .group_by(e.c.intent_name)
            .order_by(sa.desc("n"))
        ).all()
        conversations = conn.execute(
            sa.select(sa.func.count(sa.distinct(e.c.sender_id))).where(recent_user)
        ).scalar_one()
        open_requests = conn.execute(
            sa.select(sa.func.count()).where(m.visitor_requests.c.status != "done")
        ).scalar_one()
    messages = sum(r.n for r in intents)
    fallback = sum(r.n for r in intents if r.intent_name in FALLBACK_INTENTS)
    return Overview(
        days=days,
        conversations_per_day=conv,
        urgent_per_day=urgent,
        top_intents=[(r.intent_name or "(keine)", r.n) for r in intents[:10]],
        messages=messages,
        fallback_messages=fallback,
        conversations=conversations,
        urgent=sum(urgent),
        open_requests=open_requests,
    )


# --- visitor requests -------------------------------------------------------------------------
STATUS_LABELS = {"new": "Neu", "in_progress": "In Bearbeitung", "done": "Erledigt"}


def list_requests(
    eng: sa.engine.Engine, status: str = "", page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[sa.engine.Row], int]:
    vr = m.visitor_requests
    conds = [vr.c.status == status] if status in STATUS_LABELS else []
    with eng.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(vr).where(*conds)).scalar_one()
        rows = conn.execute(
            sa.select(vr)
            .where(*conds)
            .order_by(vr.c.created_at.desc(), vr.c.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    return rows, int(total)


def get_request(eng: sa.engine.Engine, request_id: int) -> sa.engine.Row | None:
    with eng.connect() as conn:
        return conn.execute(
            sa.select(m.visitor_requests).where(m.visitor_requests.c.id == request_id)
        ).first()


def set_request_status(eng: sa.engine.Engine, request_id: int, status: str, actor: str) -> bool:
    if status not in STATUS_LABELS:
        return False
    vr = m.visitor_requests
    with eng.begin() as conn:
        row = conn.execute(
            sa.select(vr.c.reference, vr.c.status).where(vr.c.id == request_id)
        ).first()
        if row is None:
            return False
        if row.status != status:
            conn.execute(vr.update().where(vr.c.id == request_id).values(status=status))
            m.audit(conn, actor, "request_status", row.reference, f"{row.status} -> {status}")
    return True


def csv_cell(value: Any) -> str:
    """A CSV cell that spreadsheet programs do not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def requests_csv(eng: sa.engine.Engine, status: str = "") -> str:
    import csv
    import io

    vr = m.visitor_requests
    conds = [vr.c.status == status] if status in STATUS_LABELS else []
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [
            "Vorgang",
            "Eingang",
            "Status",
            "Gruppe",
            "Ansprechperson",
            "E-Mail",
            "Telefon",
            "Personen",
            "Zeitraum von",
            "Zeitraum bis",
            "Terminwunsch",
            "Themen",
        ]
    )
    with eng.connect() as conn:
        for r in conn.execute(sa.select(vr).where(*conds).order_by(vr.c.created_at)):
            writer.writerow(
                csv_cell(v)
                for v in (
                    r.reference,
                    r.created_at.isoformat() if r.created_at else "",
                    STATUS_LABELS.get(r.status, r.status),
                    r.group_name,
                    r.contact_name,
                    r.email,
                    r.phone,
                    r.group_size,
                    r.date_from,
                    r.date_to,
                    r.date_text,
                    r.topics,
                )
            )
    return out.getvalue()


def audit_entries(
    eng: sa.engine.Engine, page: int = 1, page_size: int = 100
) -> tuple[list[sa.engine.Row], int]:
    with eng.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(m.audit_log)).scalar_one()
        rows = conn.execute(
            sa.select(m.audit_log)
            .order_by(m.audit_log.c.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    return rows, int(total)
