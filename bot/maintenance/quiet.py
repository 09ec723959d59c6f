"""Keep the maintainers' commands readable: library noise off, data warnings on."""

from __future__ import annotations

import warnings
from typing import Any


def hide_library_warnings() -> None:
    """Rasa's dependencies warn about their own deprecated APIs (and re-add
    filters for them while importing), scikit-learn about its own dtypes.
    Rasa's warnings about the training data (UserWarning) stay visible."""
    show = warnings.showwarning
    if getattr(show, "_bot_quiet", False):
        return

    def showwarning(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        filename = str(args[0] if args else kwargs.get("filename", ""))
        if "/sklearn/" in filename or issubclass(
            category, (DeprecationWarning, PendingDeprecationWarning)
        ):
            return
        show(message, category, *args, **kwargs)

    showwarning._bot_quiet = True  # type: ignore[attr-defined]
    warnings.showwarning = showwarning
