"""socket.io output that passes each answer's metadata on to the widget.

Rasa's SocketIOOutput sends only text and buttons. The actions add metadata to
an answer (actions/common.py: `lang`, `sources`, `no_feedback`); Rasa keeps it
in the bot event and hands it to the output channel. This output adds to the
last part of each answer:

- `answer`: the bot event's timestamp, which the widget sends back with
  „Hat das geholfen?“ so that the feedback names the answer it is about;
- `lang`: the language of the answer (the widget sets the `lang` attribute);
- `mode`: de, leicht or en (the widget's Leichte-Sprache switch follows it);
- `sources`: title and address of each source, shown as links under it;
- `feedback`: false for messages that are not an answer of their own.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.socketio import SocketIOOutput

_LANG_CODES = {"de", "en", "tr", "ar", "ru", "uk", "pl"}
_MODES = {"de", "leicht", "en", "tr", "ar", "ru", "uk", "pl"}


def answer_fields(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The widget's fields from a bot message's metadata (only well-formed values)."""
    fields: dict[str, Any] = {}
    nested = kwargs.get("metadata")
    if isinstance(nested, dict):  # a domain response's `metadata:` (utter_emergency)
        kwargs = {**nested, **kwargs}
    timestamp = kwargs.get("timestamp")
    if isinstance(timestamp, (int, float)):
        fields["answer"] = repr(float(timestamp))
    lang = kwargs.get("lang")
    if isinstance(lang, str) and lang in _LANG_CODES:
        fields["lang"] = lang
    mode = kwargs.get("mode")
    if isinstance(mode, str) and mode in _MODES:
        fields["mode"] = mode
    sources = kwargs.get("sources")
    if isinstance(sources, list):
        fields["sources"] = [
            {k: str(v) for k, v in s.items() if k in ("title", "url")}
            for s in sources
            if isinstance(s, dict) and s.get("title")
        ]
    fields["feedback"] = not kwargs.get("no_feedback") and "answer" in fields
    return fields


class AnswerSocketIOOutput(SocketIOOutput):
    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        parts = text.strip().split("\n\n")
        for index, part in enumerate(parts):
            message: dict[str, Any] = {"text": part}
            if index == len(parts) - 1:
                message.update(answer_fields(kwargs))
            await self._send_message(recipient_id, message)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        parts = text.strip().split("\n\n") or [text]
        for index, part in enumerate(parts):
            message: dict[str, Any] = {"text": part}
            if index == len(parts) - 1:
                message["quick_replies"] = [
                    {"content_type": "text", "title": b["title"], "payload": b["payload"]}
                    for b in buttons
                ]
                message.update(answer_fields(kwargs))
            await self._send_message(recipient_id, message)
