"""KPB Düren citizen-information assistant: the project's own package."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
