"""Set-up: finding Python 3.10 and the German spaCy pipeline."""

from __future__ import annotations

import subprocess
import sys

from bot import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "find-python310.sh"


def test_finds_a_working_python_310() -> None:
    out = subprocess.run([str(SCRIPT)], capture_output=True, text=True, check=True).stdout.strip()
    version = subprocess.run(
        [out, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    ).stdout
    assert version.strip() == "(3, 10)"


def test_clear_error_without_python_310(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path)}
    result = subprocess.run([str(SCRIPT)], capture_output=True, text=True, env=env)
    if result.returncode == 0:  # the system itself has a Python 3.10 on /usr/bin
        assert result.stdout.strip()
        return
    assert result.returncode == 1
    assert "no Python 3.10 found" in result.stderr and "pyenv install 3.10" in result.stderr


def test_blank_german_pipeline_lemmatizes() -> None:
    import spacy

    nlp = spacy.load(PROJECT_ROOT / "models" / "spacy-de")
    assert nlp.lang == "de"
    lemmas = [t.lemma_ for t in nlp("Die Einbrecher schlugen das Fenster ein")]
    assert "schlagen" in lemmas
    assert sys.version_info[:2] == (3, 10)
