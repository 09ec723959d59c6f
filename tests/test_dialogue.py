"""`rasa data validate` and the test stories (`rasa test core`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot import PROJECT_ROOT


def test_test_stories_pass(assistant, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "core",
            "--stories",
            "tests/test_stories.yml",
            "--model",
            str(assistant.conf.model_path),
            "--endpoints",
            "endpoints.yml",
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
            "--no-plot",
        ],
        cwd=PROJECT_ROOT,
        env=assistant.env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = (
        failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    )
    assert result.returncode == 0, details
