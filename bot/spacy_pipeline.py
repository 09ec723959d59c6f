"""Build the blank German spaCy pipeline that `SpacyNLP` loads.

No pretrained German model can be installed here, so the pipeline is a blank
German tokenizer plus the lookup lemmatizer whose table ships with
`spacy-lookups-data`. It is built once at set-up; nothing is downloaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy

from bot import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "models" / "spacy-de"


def build(path: Path = DEFAULT_PATH) -> Path:
    nlp = spacy.blank("de")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lookup table from spacy-lookups-data
    nlp.meta["name"] = "blank_de_lookup"
    nlp.meta["description"] = "Blank German tokenizer with the lookup lemmatizer"
    path.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    return path


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    built = build(target)
    lemmas = [t.lemma_ for t in spacy.load(built)("Die Einbrecher schlugen Fenster ein")]
    print(f"German spaCy pipeline written to {built} (lemmas: {' '.join(lemmas)})")


if __name__ == "__main__":
    main()
