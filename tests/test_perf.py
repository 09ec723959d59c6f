"""bot/perf.py: the patches make turns cheaper without changing what Rasa accepts or does."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import jsonschema
import pytest
import sqlalchemy as sa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core import events

from bot import perf

VALID = {
    "events": [{"event": "slot", "name": "language", "value": "de"}],
    "responses": [{"text": "Hallo"}],
}
MALFORMED = {
    "events not a list": {"events": "slot"},
    "event without type": {"events": [{"timestamp": 1.0}]},
    "unknown event type": {"events": [{"event": "no_such_event"}]},
    "slot event without name": {"events": [{"event": "slot", "value": 1}]},
    "response not an object": {"responses": ["Hallo"]},
}


@pytest.fixture
def patched() -> Iterator[list[str]]:
    perf.uninstall()
    names = perf.install()
    yield names
    perf.uninstall()


def test_install_patches_rasa_and_uninstall_restores_it(patched) -> None:
    assert "RemoteAction._validate_action_result" in patched
    assert RemoteAction._validate_action_result is perf._validate_action_result
    perf.uninstall()
    assert RemoteAction._validate_action_result is not perf._validate_action_result
    assert RemoteAction._validate_action_result.__module__ == "rasa.core.actions.action"


def test_switched_off_by_the_environment(monkeypatch) -> None:
    perf.uninstall()
    monkeypatch.setenv("BOT_PERF_PATCHES", "0")
    assert perf.install() == []
    assert RemoteAction._validate_action_result is not perf._validate_action_result


def test_valid_action_result_is_accepted(patched) -> None:
    assert RemoteAction._validate_action_result(None, VALID) is True


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_action_result_is_rejected_as_rasa_rejects_it(patched, name: str) -> None:
    result = MALFORMED[name]
    with pytest.raises(jsonschema.ValidationError) as stock:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as ours:
        RemoteAction._validate_action_result(None, result)
    assert ours.value.message.startswith(stock.value.message)
    assert "Failed to validate Action server response" in ours.value.message


def test_the_validator_is_built_and_its_schema_checked_once(monkeypatch) -> None:
    checks: list[object] = []
    original = jsonschema.validators.validator_for

    def counting_validator_for(schema: object, *args: object, **kwargs: object) -> type:
        cls = original(schema, *args, **kwargs)

        class Counting(cls):  # type: ignore[valid-type, misc]
            @classmethod
            def check_schema(klass, schema: object, *a: object, **k: object) -> None:
                checks.append(schema)
                super().check_schema(schema, *a, **k)

        return Counting

    monkeypatch.setattr(jsonschema.validators, "validator_for", counting_validator_for)
    perf._validator.cache_clear()
    try:
        for _ in range(5):
            perf.validate(VALID, "action_response")
            with pytest.raises(jsonschema.ValidationError):
                perf.validate(MALFORMED["unknown event type"], "action_response")
        assert len(checks) == 1
    finally:
        perf._validator.cache_clear()


def test_posted_events_are_still_validated(patched) -> None:
    import rasa.server

    class Request:
        json = [{"event": "no_such_event"}]

    with pytest.raises(rasa.server.ErrorResponse) as error:
        rasa.server.validate_events_in_request_body(Request())
    assert error.value.status == 400
    Request.json = [{"event": "slot", "name": "language", "value": "de"}]
    rasa.server.validate_events_in_request_body(Request())


def test_event_classes_resolve_as_before(patched) -> None:
    stock = events.Event.resolve_by_type.__wrapped__
    for cls in (events.UserUttered, events.ActionExecuted, events.SlotSet, events.BotUttered,
                events.SessionStarted, events.ActiveLoop):
        assert events.Event.resolve_by_type(cls.type_name) is cls
        assert events.Event.resolve_by_type(cls.type_name) is stock(cls.type_name)
    assert events.Event.resolve_by_type("no_such_event", default=events.SlotSet) is events.SlotSet
    with pytest.raises(ValueError):
        events.Event.resolve_by_type("no_such_event")
    assert events.Event.from_parameters({"event": "slot", "name": "a", "value": 1}) == \
        events.SlotSet("a", 1)


def test_sqlite_databases_use_write_ahead_logging(patched, tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()
    perf.uninstall()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
    engine.dispose()


def test_tracker_store_keeps_sqlite_connections_in_a_pool(patched, tmp_path) -> None:
    from rasa.core import tracker_store

    kwargs = tracker_store.create_engine_kwargs(f"sqlite:///{tmp_path / 'store.db'}")
    assert kwargs["poolclass"] is sa.pool.QueuePool
    assert kwargs["connect_args"] == {"check_same_thread": False}
    assert tracker_store.create_engine_kwargs("sqlite://") == {}  # in memory: as before
    postgres = tracker_store.create_engine_kwargs("postgresql://u@localhost/db")
    assert "poolclass" not in postgres and "pool_size" in postgres


def test_objects_loaded_at_start_are_frozen_for_the_collector() -> None:
    async def load_agent(*args: object) -> str:
        return "agent"

    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        assert asyncio.run(perf._freeze_after(load_agent)()) == "agent"
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.fixture(scope="module")
def agent_model() -> str:
    from pathlib import Path

    model = Path(__file__).resolve().parents[1] / "models" / "current.tar.gz"
    if not model.exists():
        pytest.fail("no trained model: run `make train` (make test does)")
    return str(model)


def test_the_graph_runs_without_dask_with_the_same_results(agent_model) -> None:
    from rasa.core.agent import Agent
    from rasa.engine.runner.dask import DaskGraphRunner

    texts = ["Hallo", "Wie erreiche ich die Pressestelle?", "da ist jemand in meiner wohnung",
             "Wir sind eine Schulklasse und möchten Sie besuchen", "", "😀"]

    async def parses_and_predictions() -> list[object]:
        agent = Agent.load(agent_model)
        results: list[object] = []
        for i, text in enumerate(texts):
            parse = await agent.parse_message(text)
            results.append((parse["intent"], parse.get("urgency"), parse["intent_ranking"]))
            await agent.handle_text(text, sender_id=f"runner-{i}")
            tracker = await agent.tracker_store.retrieve(f"runner-{i}")
            results.append([e.as_dict().get("name") for e in tracker.events
                            if e.as_dict()["event"] == "action"])
        return results

    perf.uninstall()
    assert DaskGraphRunner.run is not perf._sequential_run
    stock = asyncio.run(parses_and_predictions())
    perf.install()
    try:
        assert DaskGraphRunner.run is perf._sequential_run
        assert asyncio.run(parses_and_predictions()) == stock
    finally:
        perf.uninstall()


def test_graph_runner_keeps_rasas_errors(agent_model) -> None:
    from rasa.core.agent import Agent
    from rasa.engine.exceptions import GraphRunError

    runner = Agent.load(agent_model).processor.graph_runner
    node = next(name for name in runner._graph_schema.nodes if "classifier" in name.lower())
    perf.uninstall()
    for _attempt in ("stock", "patched"):
        with pytest.raises(GraphRunError, match="clashes with a node name"):
            runner.run(inputs={"__message__": node}, targets=[node])
        perf.install()
    perf.uninstall()


def _rule_policy(agent: object) -> object:
    from rasa.core.policies.rule_policy import RulePolicy

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    return next(node._component for node in nodes
                if isinstance(getattr(node, "_component", None), RulePolicy))


def test_rule_matching_stops_early_with_the_same_rules(agent_model) -> None:
    """The early exit of `_get_possible_keys` finds the same rules at every turn of long chats."""
    from rasa.core.agent import Agent
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy

    from bot.loadbench.conversations import SCRIPTS

    stock = RulePolicy.__dict__["_get_possible_keys"]
    assert stock is not perf._get_possible_keys
    agent = Agent.load(agent_model)
    policy = _rule_policy(agent)
    domain = agent.domain
    compared = 0
    walked_states = 0

    async def play(sender: str, texts: tuple[str, ...]) -> None:
        nonlocal compared, walked_states
        for text in texts:
            await agent.handle_text(text, sender_id=sender)
            tracker = await agent.tracker_store.retrieve(sender)
            for use_text in (False, True):
                states = policy._prediction_states(tracker, domain, use_text,
                                                   rule_only_data=policy._get_rule_only_data())
                walked_states = max(walked_states, len(states))
                for table in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH):
                    lookup = policy.lookup[table]
                    expected = stock(policy, lookup, states)
                    found = perf._get_possible_keys(policy, lookup, states)
                    assert found == expected, (text, table)
                    compared += 1

    for number, script in enumerate(SCRIPTS):
        asyncio.run(play(f"rules-{number}", script))
    assert compared == 4 * sum(len(script) for script in SCRIPTS)
    assert walked_states > 10  # long enough for the early exit to matter


def test_rule_matching_checks_a_rules_oldest_state(agent_model) -> None:
    """States made of the rules themselves, oldest state swapped: the same keys as Rasa's."""
    from rasa.core.agent import Agent
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy

    stock = RulePolicy.__dict__["_get_possible_keys"]
    agent = Agent.load(agent_model)
    policy = _rule_policy(agent)
    oldest_state_decided = 0
    for table in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH):
        lookup = policy.lookup[table]
        rules = [policy._rule_key_to_state(key) for key in lookup]
        for states in rules:
            for other in rules[:25]:
                variants = [states, [other[0], *states[1:]], [other[0], *states]]
                found = [stock(policy, lookup, variant) for variant in variants]
                for variant, expected in zip(variants, found, strict=True):
                    assert perf._get_possible_keys(policy, lookup, variant) == expected
                oldest_state_decided += found[0] != found[1]
    assert oldest_state_decided > 0  # the cases where stopping one state too early would show


_THREADS_SCRIPT = """
from bot import perf
perf.install()
import numpy, scipy.sparse, sklearn.svm  # what the NLU components load
from threadpoolctl import threadpool_info
print(max(pool["num_threads"] for pool in threadpool_info()))
"""


def _math_threads(**env: str) -> int:
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if k not in perf.MATH_THREAD_VARIABLES}
    out = subprocess.run([sys.executable, "-c", _THREADS_SCRIPT], env={**clean, **env},
                         capture_output=True, text=True, check=True, timeout=120)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif((__import__("os").cpu_count() or 1) < 2, reason="needs two cores")
def test_math_libraries_run_single_threaded_unless_the_operator_says_otherwise() -> None:
    # OpenBLAS's spinning worker threads cost ~45 % of a turn's CPU (bot/perf.py).
    assert _math_threads() == 1
    assert _math_threads(BOT_PERF_PATCHES="0") > 1  # stock: a thread per core
    assert _math_threads(OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2") == 2
