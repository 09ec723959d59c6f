"""The NLU inbox: citizens' messages the model was unsure about, to label.

A message is listed when Rasa's stored parse data (`parse_data` of the user
event) shows one of:

- `fallback`: the FallbackClassifier answered `nlu_fallback`;
- `low_confidence`: the recognised intent's confidence is below 0.7 (the
  conversation list's "Geringe Sicherheit");
- `near_tie`: the two best intents of `intent_ranking` are less than 0.1 apart;
- `single_signal`: urgency level `urgent` raised by exactly one of the three
  signals (intent classifier, urgency model, lexical detector).

Messages with a label or a "not training data" mark are done. Similar texts
(the near-duplicate rule of the blind evaluation, bot/evaluation/overlap.py)
form one group, newest first; a decision applies to the whole group.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sanic import Sanic, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.evaluation.overlap import JACCARD_MIN, RATIO_MIN, jaccard, normalise
from bot.review import labels
from bot.review import models as m
from bot.review.privacy import mask
from bot.review.queries import LOW_CONFIDENCE, TZ
from bot.review.views import Context
from bot.review.views.intent_labels import intent_label

NEAR_TIE = 0.1
CANDIDATE_LIMIT = 1000  # newest undecided candidates that are grouped
GROUPS_PER_PAGE = 25
MAX_IDS = 1000  # event ids per decision
FALLBACK = "nlu_fallback"
REASONS = {
    "fallback": "Nicht verstanden",
    "low_confidence": "Geringe Sicherheit",
    "near_tie": "Knapp zwischen zwei Intents",
    "single_signal": "Dringend nur laut einem Signal",
}
SIGNALS = {
    "intent": "Intent-Erkennung",
    "urgency_model": "Dringlichkeitsmodell",
    "detector": "Notfall-Wortliste",
}
MESSAGES = {
    "labelled": "Intent gespeichert.",
    "ignored": "Als „kein Trainingsbeispiel“ markiert.",
    "undone": "Entscheidung zurückgenommen.",
}

e = m.events


# --- reading the parse data ---------------------------------------------------------
@dataclass
class Message:
    event_id: int
    sender_id: str
    timestamp: float
    text: str
    intent: str | None  # what the assistant acted on (after fallback and urgency)
    confidence: float | None
    ranking: list[tuple[str, float]]  # the classifier's ranking, nlu_fallback left out
    level: str
    signals: list[str]
    reasons: list[str] = field(default_factory=list)

    @property
    def time(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp, TZ)

    @property
    def masked(self) -> str:
        return mask(self.text)

    @property
    def has_personal_data(self) -> bool:
        return self.masked != self.text


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def message_from(row: Any) -> Message:
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        data = {}
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    urgency = parse.get("urgency") or {}
    ranking = [
        (str(item.get("name")), _number(item.get("confidence")) or 0.0)
        for item in parse.get("intent_ranking") or []
        if isinstance(item, dict) and item.get("name") and item.get("name") != FALLBACK
    ]
    msg = Message(
        event_id=row.id,
        sender_id=row.sender_id,
        timestamp=row.timestamp or 0.0,
        text=str(data.get("text") or ""),
        intent=row.intent_name or intent.get("name"),
        confidence=_number(intent.get("confidence")),
        ranking=ranking,
        level=str(urgency.get("level") or ""),
        signals=[str(s) for s in urgency.get("signals") or []],
    )
    msg.reasons = reasons(msg)
    return msg


def reasons(msg: Message) -> list[str]:
    """Why the model was unsure about `msg` (keys of REASONS, in that order)."""
    found = []
    if msg.intent == FALLBACK:
        found.append("fallback")
    elif msg.confidence is not None and msg.confidence < LOW_CONFIDENCE:
        found.append("low_confidence")
    if len(msg.ranking) >= 2 and msg.ranking[0][1] - msg.ranking[1][1] < NEAR_TIE:
        found.append("near_tie")
    if msg.level == "urgent" and len(msg.signals) == 1:
        found.append("single_signal")
    return found


def proposals(msg: Message) -> list[str]:
    """The intents offered for one click: what the assistant did, then its best guesses."""
    offered: list[str] = []
    if msg.intent and msg.intent != FALLBACK:
        offered.append(msg.intent)
    for name, _ in msg.ranking:
        if len(offered) >= 2:
            break
        if name not in offered:
            offered.append(name)
    return offered


# --- the candidate query -------------------------------------------------------------------
def _path(conn: sa.engine.Connection, *keys: str | int) -> tuple[bool, str]:
    pg = conn.dialect.name == "postgresql"
    if pg:
        return pg, "{" + ",".join(str(k) for k in keys) + "}"
    path = "$"
    for key in keys:
        path += f"[{key}]" if isinstance(key, int) else f".{key}"
    return pg, path


def _json_number(conn: sa.engine.Connection, *keys: str | int) -> sa.sql.ColumnElement:
    pg, path = _path(conn, *keys)
    if pg:  # constant paths only: no user input reaches this SQL text
        return sa.literal_column(f"CAST(CAST(events.data AS json) #>> '{path}' AS float)")
    return sa.func.json_extract(e.c.data, path)


def _json_text(conn: sa.engine.Connection, *keys: str | int) -> sa.sql.ColumnElement:
    pg, path = _path(conn, *keys)
    if pg:
        return sa.literal_column(f"(CAST(events.data AS json) #>> '{path}')")
    return sa.func.json_extract(e.c.data, path)


def _json_length(conn: sa.engine.Connection, *keys: str | int) -> sa.sql.ColumnElement:
    pg, path = _path(conn, *keys)
    if pg:  # json_array_length fails on a JSON null: ask for the type first
        value = f"(CAST(events.data AS json) #> '{path}')"
        return sa.literal_column(
            f"CASE WHEN json_typeof({value}) = 'array' THEN json_array_length({value}) END"
        )
    return sa.func.json_array_length(e.c.data, path)


def _reason_conditions(conn: sa.engine.Connection) -> dict[str, sa.sql.ColumnElement]:
    first = _json_number(conn, "parse_data", "intent_ranking", 0, "confidence")
    second = _json_number(conn, "parse_data", "intent_ranking", 1, "confidence")
    return {
        "fallback": e.c.intent_name == FALLBACK,
        "low_confidence": _json_number(conn, "parse_data", "intent", "confidence")
        < LOW_CONFIDENCE,
        "near_tie": first - second < NEAR_TIE,
        "single_signal": sa.and_(
            _json_text(conn, "parse_data", "urgency", "level") == "urgent",
            _json_length(conn, "parse_data", "urgency", "signals") == 1,
        ),
    }


def candidates(
    eng: sa.engine.Engine, reason: str = "", limit: int = CANDIDATE_LIMIT
) -> list[Message]:
    """The newest undecided user messages the model was unsure about."""
    with eng.connect() as conn:
        conditions = _reason_conditions(conn)
        chosen = [conditions[reason]] if reason in conditions else list(conditions.values())
        rows = conn.execute(
            sa.select(e.c.id, e.c.sender_id, e.c.timestamp, e.c.intent_name, e.c.data)
            .where(
                e.c.type_name == "user",
                e.c.id.not_in(sa.select(m.corrections.c.event_id)),
                e.c.id.not_in(sa.select(m.training_status.c.event_id)),
                sa.or_(*chosen),
            )
            .order_by(e.c.timestamp.desc(), e.c.id.desc())
            .limit(limit)
        ).all()
    messages = [message_from(row) for row in rows]
    # Button payloads ("/affirm") are no citizen's words.
    return [
        msg for msg in messages
        if msg.reasons and msg.text.strip() and not msg.text.startswith("/")
        and (not reason or reason in msg.reasons)
    ]


# --- grouping similar texts ------------------------------------------------------------------
@dataclass
class Group:
    key: str
    messages: list[Message] = field(default_factory=list)

    @property
    def first(self) -> Message:
        return self.messages[0]

    @property
    def anchor(self) -> str:
        return f"g{self.first.event_id}"

    @property
    def reasons(self) -> list[str]:
        found = {r for msg in self.messages for r in msg.reasons}
        return [r for r in REASONS if r in found]

    @property
    def event_ids(self) -> str:
        return ",".join(str(msg.event_id) for msg in self.messages)

    @property
    def proposals(self) -> list[str]:
        votes: Counter[str] = Counter()
        for msg in self.messages:
            for rank, name in enumerate(proposals(msg)):
                votes[name] += 2 - rank
        return [name for name, _ in votes.most_common(2)]

    @property
    def has_personal_data(self) -> bool:
        return any(msg.has_personal_data for msg in self.messages)


def _similar(a: str, b: str) -> bool:
    if jaccard(frozenset(a.split()), frozenset(b.split())) >= JACCARD_MIN:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= RATIO_MIN and matcher.ratio() >= RATIO_MIN


def group(messages: list[Message]) -> list[Group]:
    """Messages with similar text in one group; groups in the order of their newest message."""
    groups: list[Group] = []
    by_key: dict[str, Group] = {}
    by_token: dict[str, list[int]] = defaultdict(list)  # token -> group indexes
    for msg in messages:
        key = normalise(msg.text)
        found = by_key.get(key)
        if found is None:
            shared: Counter[int] = Counter(
                i for token in set(key.split()) for i in by_token.get(token, ())
            )
            found = next(
                (groups[i] for i, _ in shared.most_common(30) if _similar(key, groups[i].key)),
                None,
            )
        if found is None:
            found = Group(key)
            for token in set(key.split()):
                by_token[token].append(len(groups))
            groups.append(found)
        by_key[key] = found
        found.messages.append(msg)
    return groups


@dataclass
class InboxPage:
    groups: list[Group]
    total_groups: int
    total_messages: int
    truncated: bool
    page: int
    pages: int


def inbox(eng: sa.engine.Engine, reason: str = "", page: int = 1) -> InboxPage:
    messages = candidates(eng, reason)
    groups = group(messages)
    pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
    page = min(max(1, page), pages)
    start = (page - 1) * GROUPS_PER_PAGE
    return InboxPage(
        groups=groups[start : start + GROUPS_PER_PAGE],
        total_groups=len(groups),
        total_messages=len(messages),
        truncated=len(messages) >= CANDIDATE_LIMIT,
        page=page,
        pages=pages,
    )


# --- routes --------------------------------------------------------------------------------------
def _page_number(value: str | None) -> int:
    try:
        return max(1, min(100_000, int(value or 1)))
    except ValueError:
        return 1


def _event_ids(value: str | None) -> list[int]:
    ids = []
    for part in (value or "").split(",")[:MAX_IDS]:
        part = part.strip()
        # ASCII digits only: str.isdigit() also accepts „¹“, which int() refuses.
        # Beyond the database's integers an id cannot exist (and would be a 500).
        if part.isascii() and part.isdigit() and len(part) <= 10 and int(part) < 2**31:
            ids.append(int(part))
    return ids


def register(app: Sanic, ctx: Context) -> None:
    ctx.messages.update(MESSAGES)
    ctx.audit_labels.update(labels.AUDIT_LABELS)

    def back(reason: str, page: int, msg: str, anchor: str = "") -> HTTPResponse:
        query = urlencode({k: v for k, v in (("reason", reason), ("page", str(page)),
                                             ("msg", msg)) if v and v != "1"})
        target = "/inbox" + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")
        return response.redirect(target, status=303)

    @app.get("/inbox")
    async def inbox_page(request: Request) -> HTTPResponse:
        view = "done" if request.args.get("view") == "done" else "open"
        page = _page_number(request.args.get("page"))
        reason = request.args.get("reason", "")
        reason = reason if reason in REASONS else ""
        common = {
            "view": view, "reason": reason, "REASONS": REASONS, "SIGNALS": SIGNALS,
            "IGNORE_REASONS": labels.IGNORE_REASONS, "intent_label": intent_label,
            "intents": ctx.intents,
        }
        if view == "done":
            items, total = await ctx.db(labels.decisions, page)
            return ctx.render(
                request, "inbox.html", items=items, total=total, page=page,
                pages=max(1, -(-total // 50)), **common,
            )
        data = await ctx.db(inbox, reason, page)
        return ctx.render(request, "inbox.html", data=data, page=data.page, **common)

    @app.post("/inbox/decide")
    async def inbox_decide(request: Request) -> HTTPResponse:
        form = request.form or {}
        ids = _event_ids(form.get("event_ids"))
        reason = form.get("reason", "")
        reason = reason if reason in REASONS else ""
        page = _page_number(form.get("page"))
        anchor = form.get("next", "")
        anchor = anchor if anchor[1:].isdigit() and anchor[:1] == "g" else ""
        user = request.ctx.session.user.username
        if not ids:
            raise NotFound("message")
        ignore = form.get("ignore", "")
        if ignore:
            if ignore not in labels.IGNORE_REASONS:
                raise NotFound("reason")
            await ctx.db(labels.ignore, ids, ignore, user)
            return back(reason, page, "ignored", anchor)
        intent = form.get("intent", "")
        if intent == "other":
            intent = form.get("other_intent", "")
        if intent not in ctx.intents:
            return ctx.render(
                request, "error.html", status=400, title="Unbekannter Intent",
                text="Bitte wählen Sie einen Intent aus der Liste.",
            )
        if not await ctx.db(labels.label, ids, intent, user):
            raise NotFound("message")
        return back(reason, page, "labelled", anchor)

    @app.post("/inbox/undo")
    async def inbox_undo(request: Request) -> HTTPResponse:
        ids = _event_ids((request.form or {}).get("event_id"))
        if not ids or not await ctx.db(labels.undo, ids[0], request.ctx.session.user.username):
            raise NotFound("decision")
        return response.redirect("/inbox?view=done&msg=undone", status=303)
