"""Server-issued, signed socket.io session ids.

A socket.io client used to be able to join any conversation by naming its
session id. Now the Rasa server hands out the id together with an HMAC of it
(key BOT_SESSION_SECRET); a client that wants to resume a conversation after a
page reload must show both. Without a valid pair it gets a new, empty session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

_CONTEXT = b"kpb-chat-session:"


def new_session_id() -> str:
    return str(uuid.uuid4())


def sign(secret: str, session_id: str) -> str:
    digest = hmac.new(secret.encode(), _CONTEXT + session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def verify(secret: str, session_id: object, token: object) -> bool:
    if not secret or not isinstance(session_id, str) or not isinstance(token, str):
        return False
    if not 0 < len(session_id) <= 100 or len(token) > 100:
        return False
    return hmac.compare_digest(sign(secret, session_id), token)
