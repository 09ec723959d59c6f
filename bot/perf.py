"""Cheaper Rasa turns: small patches of named Rasa 3.6 functions (docs/performance.md).

`install()` is called by bot/rasa_server.py before Rasa starts. It replaces
per-message work that repeats the same result every time, and changes no
behaviour:

- `RemoteAction._validate_action_result` (every custom action's answer) and
  `rasa.server.validate_events_in_request_body` (events posted to the HTTP API)
  call `jsonschema.validate(instance, schema)`, which first validates the
  *schema* against the JSON-Schema meta-schema and builds a validator - about
  95 % of its cost for Rasa's large events schema, on every call. The
  replacements build one validator per schema (meta-schema check included)
  once and validate every answer with it: a malformed answer is still rejected
  with the same `jsonschema.ValidationError` and message.
- `Event.resolve_by_type` (every event of the tracker, on every load - a
  20-turn conversation has some 150) walks the whole tree of `Event`
  subclasses to find the class for a type name. The replacement remembers the
  class found per type name; unknown names still take Rasa's path (and its
  error). Event classes are all defined when Rasa is imported.
- SQLite (`make run`'s tracker store): the database is switched to
  write-ahead logging (`PRAGMA journal_mode=WAL`) with `synchronous=NORMAL`.
  In SQLite's default rollback-journal mode every commit creates, syncs and
  deletes a journal file; in WAL mode with NORMAL a commit appends to the log
  and the disk is synced at checkpoints. Measured on this machine: 8 ms of
  waiting per saved turn (up to 30 ms when the disk is busy), inside the event
  loop, became well under 1 ms. What it trades: after a power failure or an OS
  crash (not a crash of the process) the last turns before it may be missing;
  the database stays consistent. Readers no longer block the writer either
  (the review app reads the same file). journal_mode is stored in the file, so
  the action server and the review app use WAL too (with their own default
  synchronous=FULL). PostgreSQL is not touched.
- SQLite connections of the tracker store are kept in a pool
  (`rasa.core.tracker_store.create_engine_kwargs`). SQLAlchemy 1.4 opens and
  closes a new connection for every retrieve and save of a file database;
  closing the last connection to a WAL database checkpoints and syncs it, and
  the cost grew with the conversation. The pool is the one SQLAlchemy 2.0 uses
  for SQLite files (QueuePool; a connection is used by one thread at a time,
  so `check_same_thread` is off as there).
- Garbage collector: after the model is loaded (`rasa.core.run.load_agent_on_start`)
  every object that exists then - Rasa, TensorFlow, spaCy, the model: millions -
  is moved out of the collector's reach with `gc.freeze()`. Otherwise every
  full collection walks them all: a pause of about 0.3 s every few hundred
  turns, for every conversation at once. Objects are still freed by reference
  counting; only cycles among those start-up objects are never collected.

- `DaskGraphRunner.run` (three times a turn: the NLU pipeline and two policy
  predictions) builds a dask graph from the model's graph schema and lets
  dask schedule it, on every call: minimal schema, graph dict, dask's
  ordering and task bookkeeping, and an f-string that formats the inputs (the
  tracker) for a debug message that is not logged. The replacement runs the
  same nodes, with the same inputs, in a topological order computed once per
  set of targets, in this thread as dask's synchronous scheduler did; errors
  are raised as before.
- Math libraries run single-threaded (`OPENBLAS_NUM_THREADS`, `OMP_NUM_THREADS`,
  `MKL_NUM_THREADS` = 1 unless the operator set them). NumPy's and SciPy's
  OpenBLAS keep a worker thread per core that spins (`sched_yield`) after
  every call; for the small products of one message it burned 12-17 ms of CPU
  per turn, about 45 % of the Rasa process, and under load took a core from
  the other processes. The libraries read these variables when they are
  loaded, so `install()` sets them first (before Rasa imports NumPy).
- `RulePolicy._get_possible_keys` (twice or more a turn) filters every rule
  against every past state of the conversation, from the newest back to the
  first. A rule only constrains as many states as it has (at most three
  here); beyond that `_is_rule_applicable` accepts every key. The replacement
  stops when no key is left or when every remaining rule is shorter than the
  distance already walked: same keys, without walking a 20-turn conversation's
  40 states for rules of length three.
- The action server is called over kept-alive connections
  (`bot/action_client.py`): `AvailableEndpoints.read_endpoints` returns the
  action endpoint as a `KeptAliveEndpoint`, and `rasa.core.run.close_resources`
  (after the server stops) also closes its session. Rasa opens and closes a
  session and a TCP connection for every custom action otherwise.

Each patch checks that the function it replaces is still the one it was
written for (Rasa's version); otherwise it is skipped with a warning, never
applied to unknown code. `BOT_PERF_PATCHES=0` switches them off (to measure
stock Rasa).
"""

from __future__ import annotations

import functools
import gc
import graphlib
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import jsonschema
import sqlalchemy as sa
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6."  # the patched functions were read in this release line
_installed: list[str] = []
_originals: list[tuple[Any, str, Any]] = []  # (owner, attribute, original) for uninstall()


@functools.cache
def _validator(schema_name: str) -> Validator:
    """One validator per named schema, built (and its schema checked) once."""
    schema = _SCHEMAS[schema_name]()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # what jsonschema.validate does on every call
    return cls(schema)


def _action_response_schema() -> dict[str, Any]:
    from rasa.core.actions.action import RemoteAction

    return RemoteAction.action_response_format_spec()


def _events_schema() -> dict[str, Any]:
    from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

    return EVENTS_SCHEMA


_SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "action_response": _action_response_schema,
    "events": _events_schema,
}


def validate(instance: Any, schema_name: str) -> None:
    """Like `jsonschema.validate(instance, schema)`, with the cached validator."""
    error = best_match(_validator(schema_name).iter_errors(instance))
    if error is not None:
        raise error


# -- the replacements -------------------------------------------------------------
def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """rasa.core.actions.action.RemoteAction._validate_action_result, cached validator."""
    from rasa.shared.constants import DOCS_BASE_URL

    try:
        validate(result, "action_response")
        return True
    except jsonschema.ValidationError as e:
        e.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


def _validate_events_in_request_body(request: Any) -> None:
    """rasa.server.validate_events_in_request_body, cached validator."""
    from http import HTTPStatus

    from rasa.server import ErrorResponse, _docs

    events = request.json if isinstance(request.json, list) else [request.json]
    try:
        validate(events, "events")
    except jsonschema.ValidationError as error:
        raise ErrorResponse(
            HTTPStatus.BAD_REQUEST,
            "BadRequest",
            f"Failed to validate the events format. "
            f"For more information about the format visit the docs. Error: {error}",
            help_url=_docs("/pages/http-api"),
        ) from error


def _cached_resolve_by_type(original: Callable[..., Any]) -> Callable[..., Any]:
    """rasa.shared.core.events.Event.resolve_by_type, remembering found classes."""
    found: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
        cls = found.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    resolve_by_type.__wrapped__ = original  # type: ignore[attr-defined]
    return resolve_by_type


def _freeze_after(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """rasa.core.run.load_agent_on_start, then gc.freeze() of everything loaded so far."""

    @functools.wraps(original)
    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        agent = await original(*args, **kwargs)
        gc.collect()
        gc.freeze()
        logger.info("perf: %d start-up objects frozen for the garbage collector",
                    gc.get_freeze_count())
        return agent

    return load_agent_on_start


def _kept_alive_actions(original: Callable[..., Any]) -> Callable[..., Any]:
    """AvailableEndpoints.read_endpoints, with the action endpoint kept alive."""

    @functools.wraps(original)
    def read_endpoints(cls: type, endpoint_file: Any) -> Any:
        endpoints = original(endpoint_file)
        if endpoints.action is not None and endpoints.action.url:
            from bot.action_client import KeptAliveEndpoint

            endpoints.action = KeptAliveEndpoint.of(endpoints.action)
        return endpoints

    return read_endpoints


def _closing_action_sessions(
    original: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """rasa.core.run.close_resources, then the action endpoint's kept connections."""

    @functools.wraps(original)
    async def close_resources(app: Any, loop: Any) -> None:
        await original(app, loop)
        from bot.action_client import KeptAliveEndpoint

        endpoint = getattr(getattr(app.ctx, "agent", None), "action_endpoint", None)
        if isinstance(endpoint, KeptAliveEndpoint):
            await endpoint.close()

    return close_resources


def _pooled_sqlite(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """rasa.core.tracker_store.create_engine_kwargs, plus a pool for SQLite files."""

    @functools.wraps(original)
    def create_engine_kwargs(url: Any) -> dict[str, Any]:
        kwargs = dict(original(url))
        parsed = sa.engine.make_url(str(url))
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            kwargs.setdefault("poolclass", sa.pool.QueuePool)
            kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        return kwargs

    return create_engine_kwargs


def _sqlite_wal(dbapi_connection: Any, connection_record: Any) -> None:
    """On every new SQLite connection: write-ahead logging, synced at checkpoints."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # a no-op once the file has it
            cursor.execute("PRAGMA synchronous=NORMAL")  # per connection
        finally:
            cursor.close()


def _sequential_run(
    self: Any, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
) -> dict[str, Any]:
    """rasa.engine.runner.dask.DaskGraphRunner.run without dask's per-call scheduling.

    The schema of a loaded model does not change, so the order of the nodes a
    set of targets needs is computed once. Values are passed as dask passed
    them: each node gets its needs' (name, value) pairs; a need that is
    neither a node nor an input is passed as the literal string, as dask does.
    """
    from rasa.engine.exceptions import GraphRunError

    run_targets = targets if targets else self._graph_schema.target_names
    orders = self.__dict__.setdefault("_bot_run_orders", {})
    key = tuple(run_targets)
    if key not in orders:
        schema = self._graph_schema.minimal_graph_schema(run_targets)
        needs = {name: list(node.needs.values()) for name, node in schema.nodes.items()}
        sorter = graphlib.TopologicalSorter(
            {name: [n for n in deps if n in needs] for name, deps in needs.items()}
        )
        orders[key] = ([(name, needs[name]) for name in sorter.static_order()], set(needs))
    order, nodes = orders[key]
    values: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and (value in nodes or value in values):
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        values[name] = (name, value)
    try:
        for name, needs in order:
            values[name] = self._instantiated_nodes[name](
                *(values.get(n, n) for n in needs)
            )
        return dict(values[t] for t in run_targets)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


_rule_lengths: dict[str, int] = {}  # rule key -> number of states (keys are immutable strings)


def _rule_length(policy: Any, key: str) -> int:
    length = _rule_lengths.get(key)
    if length is None:
        length = _rule_lengths[key] = len(policy._rule_key_to_state(key))
    return length


def _get_possible_keys(self: Any, lookup: dict[str, str], states: list[Any]) -> set[str]:
    """rasa.core.policies.rule_policy.RulePolicy._get_possible_keys, stopping early.

    Rasa's loop keeps filtering after the answer is settled: a key whose rule
    has no state at index i (counted from the newest) is applicable by
    definition, so once every remaining key is that short, nothing changes.
    """
    possible_keys = set(lookup.keys())
    for i, state in enumerate(reversed(states)):
        if not possible_keys or all(_rule_length(self, k) <= i for k in possible_keys):
            break
        possible_keys = {k for k in possible_keys if self._is_rule_applicable(k, i, state)}
    return possible_keys


MATH_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_math() -> None:
    """One thread per math library, unless set; only effective before NumPy loads."""
    for name in MATH_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def _patch(owner: Any, attribute: str, replacement: Callable[..., Any], name: str) -> None:
    original = getattr(owner, attribute)
    if not getattr(original, "__module__", "").startswith("rasa."):
        logger.warning("perf: %s is not Rasa's original; not patched", name)
        return
    _originals.append((owner, attribute, owner.__dict__[attribute]))
    setattr(owner, attribute, replacement)
    _installed.append(name)


def install() -> list[str]:
    """Apply the patches once; returns the names of the patched functions."""
    if _installed or os.environ.get("BOT_PERF_PATCHES", "1").strip() in ("0", "false", "no"):
        return list(_installed)
    single_threaded_math()
    _installed.append("single-threaded math libraries")
    import rasa
    import rasa.server
    from rasa.core.actions.action import RemoteAction

    if not rasa.__version__.startswith(RASA_VERSION):
        logger.warning("perf: written for Rasa %sx, found %s; not patched",
                       RASA_VERSION, rasa.__version__)
        return []
    _patch(RemoteAction, "_validate_action_result", _validate_action_result,
           "RemoteAction._validate_action_result")
    _patch(rasa.server, "validate_events_in_request_body", _validate_events_in_request_body,
           "rasa.server.validate_events_in_request_body")
    from rasa.shared.core.events import Event

    _patch(Event, "resolve_by_type",
           staticmethod(_cached_resolve_by_type(Event.resolve_by_type)),
           "Event.resolve_by_type")
    import rasa.core.run

    _patch(rasa.core.run, "load_agent_on_start",
           _freeze_after(rasa.core.run.load_agent_on_start), "gc.freeze() after loading")
    from rasa.core.utils import AvailableEndpoints

    _patch(AvailableEndpoints, "read_endpoints",
           classmethod(_kept_alive_actions(AvailableEndpoints.read_endpoints)),
           "kept-alive connections to the action server")
    _patch(rasa.core.run, "close_resources",
           _closing_action_sessions(rasa.core.run.close_resources),
           "rasa.core.run.close_resources closes them")
    import rasa.core.tracker_store

    _patch(rasa.core.tracker_store, "create_engine_kwargs",
           _pooled_sqlite(rasa.core.tracker_store.create_engine_kwargs),
           "pooled SQLite connections")
    from rasa.engine.runner.dask import DaskGraphRunner

    _patch(DaskGraphRunner, "run", _sequential_run, "DaskGraphRunner.run")
    from rasa.core.policies.rule_policy import RulePolicy

    _patch(RulePolicy, "_get_possible_keys", _get_possible_keys, "RulePolicy._get_possible_keys")
    sa.event.listen(sa.engine.Engine, "connect", _sqlite_wal)
    _installed.append("SQLite journal_mode=WAL, synchronous=NORMAL")
    for name in _SCHEMAS:
        _validator(name)  # build now, not during the first citizen's turn
    return list(_installed)


def uninstall() -> None:
    """Undo install() (for tests that need stock Rasa next to patched Rasa)."""
    while _originals:
        owner, attribute, original = _originals.pop()
        setattr(owner, attribute, original)
    if sa.event.contains(sa.engine.Engine, "connect", _sqlite_wal):
        sa.event.remove(sa.engine.Engine, "connect", _sqlite_wal)
    _installed.clear()
