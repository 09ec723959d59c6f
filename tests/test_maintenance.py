"""The maintainers' commands on their own: add-corrections, train's bookkeeping,
compare's verdicts, reload against fake Rasa servers (no real model needed)."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import loop_project
import pytest
import sqlalchemy as sa
from review.seed import Msg, add_conversation

from bot.evaluation.blind import Item
from bot.evaluation.metrics import Prediction
from bot.maintenance import compare, corrections, gatecache, reload, training
from bot.maintenance.project import Project
from bot.review import labels, models

GOOD = {"macro_f1": 0.99, "urgent_handled": 1.0, "urgent_emergency": 1.0, "false_alarms": 0.0,
        "line_on_non_urgent": 0.0, "everyday_emergency": 0.0, "everyday_police": 0.0}


@pytest.fixture()
def project(tmp_path: Path) -> Project:
    return Project(loop_project.build(tmp_path / "project"))


@pytest.fixture()
def eng(tmp_path: Path) -> sa.engine.Engine:
    return models.engine(f"sqlite:///{tmp_path / 'labels.db'}")


def labelled(eng: sa.engine.Engine, texts_and_intents: list[tuple[str, str]]) -> list[int]:
    """Conversations with these messages, each labelled by a press user."""
    ids = []
    for n, (text, intent) in enumerate(texts_and_intents):
        sender = f"s{n}-{len(text)}"
        add_conversation(eng, sender, [Msg(text, intent="nlu_fallback", confidence=0.2)])
        with eng.connect() as conn:
            event_id = conn.execute(
                sa.select(models.events.c.id).where(
                    models.events.c.sender_id == sender, models.events.c.type_name == "user")
            ).scalar_one()
        labels.label(eng, [event_id], intent, "press-user")
        ids.append(event_id)
    return ids


def run_add(project: Project, eng: sa.engine.Engine, **kw: object) -> tuple[int, str]:
    out: list[str] = []
    code = corrections.add_corrections(project, eng, echo=out.append, **kw)  # type: ignore[arg-type]
    return code, "\n".join(out)


# --- bot data add-corrections -------------------------------------------------------------
def test_shows_the_diff_and_writes_nothing_when_declined(
    project: Project, eng: sa.engine.Engine
) -> None:
    labelled(eng, [("Ich brauche die Faxnummer der Pressesprecherin", "ask_press_office")])
    before = (project.nlu_dir / "press_office.yml").read_text(encoding="utf-8")
    asked: list[str] = []
    code, out = run_add(project, eng, ask=lambda q: asked.append(q) or False)
    assert code == 1 and "Nothing written." in out
    assert "--- a/data/nlu/press_office.yml" in out
    assert "+    - Ich brauche die Faxnummer der Pressesprecherin" in out
    assert asked == ["Add 1 example(s) to data/nlu?"]
    assert (project.nlu_dir / "press_office.yml").read_text(encoding="utf-8") == before
    assert len(labels.pending(eng)) == 1  # still waiting


def test_adds_into_the_intents_file_keeping_comments_and_marks_them_exported(
    project: Project, eng: sa.engine.Engine
) -> None:
    ids = labelled(eng, [
        ("Ich brauche die Faxnummer der Pressesprecherin", "ask_press_office"),
        ("Wer sitzt alles im Leitungsstab der Behörde?", "ask_leitungsstab"),
        ("wie erreiche ich die pressestelle", "ask_press_office"),  # already there
    ])
    code, out = run_add(project, eng, yes=True)
    assert code == 0, out
    assert "3 label(s) waiting: 2 to add, 1 already in the training data, 0 refused." in out
    press = (project.nlu_dir / "press_office.yml").read_text(encoding="utf-8")
    assert press.startswith("# Press office: contacts")
    assert press.endswith("    - E-Mail der Pressestelle\n"
                          "    - Ich brauche die Faxnummer der Pressesprecherin\n")
    other = (project.nlu_dir / "other.yml").read_text(encoding="utf-8")
    block = other.split("- intent: ask_leitungsstab")[1].split("- intent:")[0]
    assert "    - Wer sitzt alles im Leitungsstab der Behörde?\n" in block
    assert not list((project.root / "tests").rglob("*.yml.orig"))
    blind_files = {p.name: p.read_bytes() for p in project.blind_dir.iterdir()}
    assert "Ich brauche die Faxnummer" not in b"".join(blind_files.values()).decode()
    done = {d.event_id: d for d in labels.decisions(eng)[0]}
    assert done[ids[0]].status == "exported" and done[ids[0]].detail == "data/nlu/press_office.yml"
    assert done[ids[2]].detail == "stand schon in den Trainingsdaten"
    assert run_add(project, eng, yes=True)[1].startswith("No labels are waiting")


def test_refuses_near_duplicates_of_blind_messages_and_personal_data(
    project: Project, eng: sa.engine.Engine
) -> None:
    ids = labelled(eng, [
        # the blind set has „Welche Telefonnummer hat die Pressestelle?“
        ("Welche Telefonnummer hat die Pressestelle", "ask_press_office"),
        ("Bitte rufen Sie mich an: 0171 2345678", "ask_press_office"),
        ("Mail an erika@example.org schicken", "ask_press_office"),
        ("Was ist der Leitungsstab?", "out_of_scope"),  # stands under another intent
    ])
    before = {p: p.read_text(encoding="utf-8") for p in project.nlu_dir.iterdir()}
    code, out = run_add(project, eng, yes=True)
    assert code == 0
    assert "4 refused" in out
    assert ("refused (near duplicate of a blind test message (exact)): "
            "„Welche Telefonnummer hat die Pressestelle“") in out
    assert "refused (contains what looks like an e-mail address or phone number)" in out
    assert "0171" not in out and "erika@" not in out  # masked in the output too
    assert "refused (already an example of 'ask_leitungsstab')" in out
    assert {p: p.read_text(encoding="utf-8") for p in project.nlu_dir.iterdir()} == before
    done = {d.event_id: d for d in labels.decisions(eng)[0]}
    assert done[ids[0]].status == "refused"
    assert done[ids[0]].detail.startswith("fast gleich einer Nachricht der Testsätze")
    assert labels.pending(eng) == []


def test_not_training_data_is_never_offered(project: Project, eng: sa.engine.Engine) -> None:
    (event_id,) = labelled(eng, [("Ich heiße Erika Muster und wohne in Kreuzau", "greet")])
    labels.ignore(eng, [event_id], "personal", "press-user")
    code, out = run_add(project, eng, yes=True)
    assert code == 0 and out.startswith("No labels are waiting")


def test_without_a_terminal_it_needs_yes(project: Project, eng: sa.engine.Engine) -> None:
    labelled(eng, [("Ich brauche die Faxnummer der Pressesprecherin", "ask_press_office")])
    code, out = run_add(project, eng)  # pytest's stdin is no terminal
    assert code == 1 and "--yes" in out
    assert len(labels.pending(eng)) == 1


# --- bot train: only what changed, progress ---------------------------------------------------
def test_nothing_changed_means_no_training(project: Project) -> None:
    project.current_model.write_bytes(b"model")
    training.save_state(project, {"inputs": training.input_hashes(project),
                                  "code": training.code_hash()})
    out: list[str] = []
    result = training.train(project, echo=out.append)
    assert not result.trained
    assert out == ["Nothing changed since the last training: models/current.tar.gz is up to date."]


def test_changed_data_is_named_and_progress_is_shown(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa's training is replaced by a stand-in that logs like Rasa's training hooks."""
    import rasa.model_training

    project.current_model.write_bytes(b"old model")
    training.save_state(project, {
        "inputs": training.input_hashes(project), "code": training.code_hash(),
        "timelines": {"partial": {"LinearIntentClassifier": 8.0, "RulePolicy": 9.0,
                                  "total": 10.0}},
    })
    with open(project.nlu_dir / "other.yml", "a", encoding="utf-8") as fh:
        fh.write("    - Kochrezept für Kartoffelsalat\n")
    hooks = logging.getLogger("rasa.engine.training.hooks")

    def fake_train(**kw: object) -> object:
        assert kw["force_training"] is False  # Rasa's cache decides what is retrained
        hooks.info("Starting to train component 'LinearIntentClassifier'.")
        hooks.info("Finished training component 'LinearIntentClassifier'.")
        hooks.info("Restored component 'RulePolicy' from cache.")
        Path(str(kw["output"]), f"{kw['fixed_model_name']}.tar.gz").write_bytes(b"new model")
        return rasa.model_training.TrainingResult(code=0)

    monkeypatch.setattr(rasa.model_training, "train", fake_train)
    out: list[str] = []
    result = training.train(project, echo=out.append)
    text = "\n".join(out)
    assert "Changed since the last training: data/nlu/other.yml (changed)" in text
    assert "training LinearIntentClassifier ... (about 0:10 left)" in text
    assert "LinearIntentClassifier trained in" in text and "(about 0:02 left)" in text
    assert "RulePolicy unchanged: restored from Rasa's cache (about 0:01 left)" in text
    assert result.retrained == ["LinearIntentClassifier"] and result.restored == ["RulePolicy"]
    assert project.current_model.read_bytes() == b"new model"
    assert project.previous_model.read_bytes() == b"old model"
    assert training.train(project, echo=out.append).trained is False  # recorded


def test_changed_component_code_trains_everything(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rasa.model_training

    project.current_model.write_bytes(b"old model")
    training.save_state(project, {"inputs": training.input_hashes(project), "code": "before"})
    forced: list[object] = []

    def fake_train(**kw: object) -> object:
        forced.append(kw["force_training"])
        Path(str(kw["output"]), f"{kw['fixed_model_name']}.tar.gz").write_bytes(b"new")
        return rasa.model_training.TrainingResult(code=0)

    monkeypatch.setattr(rasa.model_training, "train", fake_train)
    out: list[str] = []
    training.train(project, echo=out.append)
    assert forced == [True]
    assert "The code of the NLU components or policies changed: training everything." in out


# --- bot compare: better, worse, urgent first -------------------------------------------------
def _item(label: str, kind: str = "") -> Item:
    return Item("x", label, kind or label, "de", "t.yml")


@pytest.mark.parametrize(("label", "kind", "old", "new", "verdict"), [
    ("ask_press_office", "", ("nlu_fallback", "none"), ("ask_press_office", "none"), "better"),
    ("urgent", "fire", ("emergency", "urgent"), ("report_crime", "possible"), "worse"),
    ("urgent", "fire", ("report_crime", "none"), ("report_crime", "possible"), "better"),
    ("non_urgent", "idiom", ("out_of_scope", "none"), ("emergency", "urgent"), "worse"),
    ("non_urgent", "everyday:weather", ("ask_press_office", "none"), ("out_of_scope", "none"),
     "better"),
    ("greet", "", ("goodbye", "none"), ("thank", "none"), "different"),
])
def test_compare_judges_each_change(
    label: str, kind: str, old: tuple[str, str], new: tuple[str, str], verdict: str
) -> None:
    change = compare.Change(_item(label, kind), Prediction(*old), Prediction(*new))
    assert change.verdict == verdict


def test_urgency_changes_are_listed_first() -> None:
    harmless = compare.Change(_item("greet"), Prediction("goodbye", "none"),
                              Prediction("greet", "none"))
    alarm = compare.Change(_item("greet"), Prediction("greet", "none"),
                           Prediction("emergency", "urgent"))
    assert alarm.urgency_related and not harmless.urgency_related


# --- bot reload against fake Rasa servers -----------------------------------------------------
@dataclass
class FakeRasa:
    """Answers /status, PUT /model, /model/parse and /model/predict like Rasa's HTTP API."""

    model_file: str
    log: list[str]
    name: str
    broken_after_load: bool = False
    loaded: list[str] = field(default_factory=list)

    @property
    def model_id(self) -> str:
        return "id-" + Path(self.model_file).name

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def reply(self, status: int, body: object | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self) -> object:
                return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

            def do_GET(self) -> None:  # noqa: N802
                if "token=secret" not in self.path:
                    return self.reply(401, {})
                self.reply(200, {"model_file": fake.model_file, "model_id": fake.model_id})

            def do_PUT(self) -> None:  # noqa: N802
                fake.model_file = self.body()["model_file"]  # type: ignore[index]
                fake.log.append(f"{fake.name} loads {Path(fake.model_file).name}")
                self.reply(204)

            def do_POST(self) -> None:  # noqa: N802
                self.body()
                if fake.broken_after_load and fake.model_file.endswith("new.tar.gz"):
                    return self.reply(500, {"error": "broken"})
                if self.path.startswith("/model/parse"):
                    return self.reply(200, {"intent": {"name": "greet"}})
                self.reply(200, {"scores": [{"action": "action_answer", "score": 1.0}]})

        return Handler


@contextmanager
def fake_servers(*fakes: FakeRasa) -> Iterator[list[str]]:
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), f.handler()) for f in fakes]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield [f"http://127.0.0.1:{s.server_address[1]}" for s in servers]
    finally:
        for server in servers:
            server.shutdown()


@pytest.fixture()
def new_model(project: Project, monkeypatch: pytest.MonkeyPatch) -> Path:
    model = project.models / "new.tar.gz"
    model.write_bytes(b"new model")
    monkeypatch.setattr(reload, "model_id_of", lambda path: "id-" + Path(path).name)
    return model


def run_reload(project: Project, model: Path, urls: list[str], **kw: object) -> tuple[int, str]:
    out: list[str] = []
    code = reload.reload(model, project, urls, kw.pop("token", "secret"),  # type: ignore[arg-type]
                         echo=out.append, **kw)  # type: ignore[arg-type]
    return code, "\n".join(out)


def test_reload_puts_the_model_live_one_server_after_the_other(
    project: Project, new_model: Path
) -> None:
    gatecache.store(project, new_model, GOOD)
    log: list[str] = []
    a, b = FakeRasa("/m/old.tar.gz", log, "a"), FakeRasa("/m/old.tar.gz", log, "b")
    with fake_servers(a, b) as urls:
        code, out = run_reload(project, new_model, urls)
    assert code == 0, out
    assert log == ["a loads new.tar.gz", "b loads new.tar.gz"]
    assert "Quality gate: using the blind-set figures `bot compare` computed" in out
    assert "[2/2]" in out and "2 server(s) answer with new.tar.gz." in out


def test_reload_refuses_a_model_below_the_quality_gate(project: Project, new_model: Path) -> None:
    gatecache.store(project, new_model, {**GOOD, "macro_f1": 0.90})
    log: list[str] = []
    with fake_servers(FakeRasa("/m/old.tar.gz", log, "a")) as urls:
        code, out = run_reload(project, new_model, urls)
        assert code == 2 and "macro-F1 0.9000 is below" in out and log == []
        forced, out = run_reload(project, new_model, urls, force=True)
    assert forced == 0 and "Quality gate skipped (--force)." in out
    assert log == ["a loads new.tar.gz"]


def test_a_failing_server_gets_its_old_model_back_and_the_rest_are_left_alone(
    project: Project, new_model: Path
) -> None:
    gatecache.store(project, new_model, GOOD)
    log: list[str] = []
    fakes = (FakeRasa("/m/old.tar.gz", log, "a", broken_after_load=True),
             FakeRasa("/m/old.tar.gz", log, "b"))
    with fake_servers(*fakes) as urls:
        code, out = run_reload(project, new_model, urls)
    assert code == 1
    assert log == ["a loads new.tar.gz", "a loads old.tar.gz"]
    assert "old model /m/old.tar.gz loaded again" in out
    assert "The other 1 server(s) were left unchanged." in out
    assert fakes[1].model_file == "/m/old.tar.gz"


def test_reload_needs_the_token(project: Project, new_model: Path) -> None:
    gatecache.store(project, new_model, GOOD)
    code, out = run_reload(project, new_model, ["http://127.0.0.1:1"], token=None)
    assert code == 1 and "RASA_AUTH_TOKEN is not set" in out
    log: list[str] = []
    with fake_servers(FakeRasa("/m/old.tar.gz", log, "a")) as urls:
        code, out = run_reload(project, new_model, urls, token="wrong")
    assert code == 1 and "refused the token" in out and log == []


def test_server_urls_default_to_the_local_server() -> None:
    assert reload.server_urls({"RASA_PORT": "5999"}) == ["http://127.0.0.1:5999"]
    assert reload.server_urls({"BOT_RASA_URLS": "http://a:5005/, http://b:5005"}) == [
        "http://a:5005", "http://b:5005"]


def test_the_cli_lists_the_maintainers_commands() -> None:
    from bot.cli import build_parser

    buffer = io.StringIO()
    with redirect_stdout(buffer), pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    for command in ("train", "data", "compare", "reload", "evaluate", "validate"):
        assert command in buffer.getvalue()


def test_a_change_no_citizen_would_notice_is_not_listed() -> None:
    # intent emergency is the emergency answer whatever the urgency level says
    assert compare.outcome(Prediction("emergency", "possible")) == compare.outcome(
        Prediction("emergency", "urgent"))
    assert compare.outcome(Prediction("report_crime", "none")) != compare.outcome(
        Prediction("report_crime", "possible"))
