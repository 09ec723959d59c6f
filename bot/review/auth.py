"""Staff accounts, passwords (argon2), server-side sessions, known browsers
and CSRF tokens for the review app. Login throttling: bot/review/throttle.py."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot import db
from bot.review import models as m

USERNAME = re.compile(r"^[A-Za-z0-9._-]{2,64}$")
MIN_PASSWORD_LENGTH = 10
# Longer passwords are refused (and at login never hashed): nobody types more,
# and hashing megabytes on request would be work an attacker can order for free.
MAX_PASSWORD_LENGTH = 256
KNOWN_DEVICE_DAYS = 180

_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not tell.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AuthError(ValueError):
    """A user-facing problem (German message)."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: float


def session_lifetime() -> float:
    """Idle timeout of a session in seconds (env REVIEW_SESSION_MINUTES, default 120)."""
    value = os.environ.get("REVIEW_SESSION_MINUTES", "").strip()
    return float(value or 120) * 60


MAX_SESSION_AGE = 12 * 3600  # absolute limit, whatever the activity


# --- accounts --------------------------------------------------------------------
def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen haben.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(f"Das Passwort darf höchstens {MAX_PASSWORD_LENGTH} Zeichen haben.")


def add_user(eng: sa.engine.Engine, username: str, password: str, role: str, actor: str) -> None:
    if not USERNAME.match(username):
        raise AuthError("Benutzername: 2–64 Zeichen, nur Buchstaben, Ziffern, . _ -")
    if role not in m.ROLES:
        raise AuthError(f"Unbekannte Rolle {role!r} (erlaubt: press, admin).")
    validate_password(password)
    with eng.begin() as conn:
        exists = conn.execute(sa.select(m.users.c.id).where(m.users.c.username == username)).first()
        if exists:
            raise AuthError(f"Benutzer {username!r} gibt es schon.")
        conn.execute(
            m.users.insert().values(
                username=username,
                password_hash=_hasher.hash(password),
                role=role,
                disabled=False,
                created_at=db.utcnow(),
            )
        )
        m.audit(conn, actor, "user_add", username, f"Rolle {role}")


def _require_user(conn: sa.engine.Connection, username: str) -> int:
    row = conn.execute(sa.select(m.users.c.id).where(m.users.c.username == username)).first()
    if row is None:
        raise AuthError(f"Benutzer {username!r} gibt es nicht.")
    return int(row.id)


def set_disabled(eng: sa.engine.Engine, username: str, disabled: bool, actor: str) -> None:
    with eng.begin() as conn:
        user_id = _require_user(conn, username)
        conn.execute(m.users.update().where(m.users.c.id == user_id).values(disabled=disabled))
        if disabled:  # ends every open session of the account at once
            conn.execute(m.sessions.delete().where(m.sessions.c.user_id == user_id))
            conn.execute(m.known_devices.delete().where(m.known_devices.c.user_id == user_id))
        m.audit(conn, actor, "user_disable" if disabled else "user_enable", username)


def set_password(eng: sa.engine.Engine, username: str, password: str, actor: str) -> None:
    validate_password(password)
    with eng.begin() as conn:
        user_id = _require_user(conn, username)
        conn.execute(
            m.users.update()
            .where(m.users.c.id == user_id)
            .values(password_hash=_hasher.hash(password))
        )
        conn.execute(m.sessions.delete().where(m.sessions.c.user_id == user_id))
        conn.execute(m.known_devices.delete().where(m.known_devices.c.user_id == user_id))
        conn.execute(
            m.login_failures.delete().where(m.login_failures.c.key == f"user:{username.lower()}")
        )
        m.audit(conn, actor, "user_password", username)


def set_role(eng: sa.engine.Engine, username: str, role: str, actor: str) -> None:
    if role not in m.ROLES:
        raise AuthError(f"Unbekannte Rolle {role!r} (erlaubt: press, admin).")
    with eng.begin() as conn:
        user_id = _require_user(conn, username)
        conn.execute(m.users.update().where(m.users.c.id == user_id).values(role=role))
        m.audit(conn, actor, "user_role", username, f"Rolle {role}")


def list_users(eng: sa.engine.Engine) -> list[sa.engine.Row]:
    with eng.connect() as conn:
        return list(conn.execute(sa.select(m.users).order_by(m.users.c.username)))


# --- known browsers -----------------------------------------------------------------
def known_device(eng: sa.engine.Engine, token: str | None, username: str) -> bool:
    """Whether `token` (the device cookie) belongs to an active user `username`."""
    if not token or len(token) > 200:
        return False
    cutoff = time.time() - KNOWN_DEVICE_DAYS * 86400
    with eng.connect() as conn:
        row = conn.execute(
            sa.select(m.users.c.username)
            .select_from(m.known_devices.join(m.users, m.users.c.id == m.known_devices.c.user_id))
            .where(
                m.known_devices.c.token_hash == _hash_token(token),
                m.known_devices.c.last_used_at > cutoff,
            )
        ).first()
    return row is not None and row.username.lower() == username.lower()


def remember_device(eng: sa.engine.Engine, user: User, token: str | None) -> str:
    """The device cookie value after a successful login (a new one unless known)."""
    now = time.time()
    with eng.begin() as conn:
        if token and len(token) <= 200:
            kept = conn.execute(
                m.known_devices.update()
                .where(
                    m.known_devices.c.token_hash == _hash_token(token),
                    m.known_devices.c.user_id == user.id,
                )
                .values(last_used_at=now)
            ).rowcount
            if kept:
                return token
        token = secrets.token_urlsafe(32)
        conn.execute(
            m.known_devices.insert().values(
                token_hash=_hash_token(token), user_id=user.id, created_at=now, last_used_at=now
            )
        )
    return token


def authenticate(eng: sa.engine.Engine, username: str, password: str) -> User | None:
    """The active user with this password, else None (constant work either way)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    with eng.connect() as conn:
        row = conn.execute(sa.select(m.users).where(m.users.c.username == username)).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        with eng.begin() as conn:
            conn.execute(
                m.users.update()
                .where(m.users.c.id == row.id)
                .values(password_hash=_hasher.hash(password))
            )
    return User(id=row.id, username=row.username, role=row.role)


# --- sessions -------------------------------------------------------------------------
def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(eng: sa.engine.Engine, user: User) -> str:
    """A new session for `user`; returns the cookie value."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with eng.begin() as conn:
        conn.execute(m.sessions.delete().where(m.sessions.c.expires_at < now))
        conn.execute(
            m.sessions.insert().values(
                token_hash=_hash_token(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen=now,
                expires_at=now + session_lifetime(),
            )
        )
        conn.execute(
            m.users.update().where(m.users.c.id == user.id).values(last_login_at=db.utcnow())
        )
        m.audit(conn, user.username, "login")
    return token


def load_session(eng: sa.engine.Engine, token: str | None) -> Session | None:
    """The live session for a cookie value (its expiry is extended), else None."""
    if not token or len(token) > 200:
        return None
    now = time.time()
    key = _hash_token(token)
    with eng.connect() as conn:
        row = conn.execute(
            sa.select(
                m.sessions.c.csrf_token,
                m.sessions.c.created_at,
                m.sessions.c.expires_at,
                m.sessions.c.last_seen,
                m.users.c.id,
                m.users.c.username,
                m.users.c.role,
                m.users.c.disabled,
            )
            .select_from(m.sessions.join(m.users, m.users.c.id == m.sessions.c.user_id))
            .where(m.sessions.c.token_hash == key)
        ).first()
    if row is None or row.disabled or row.expires_at < now:
        return None
    if now - row.created_at > MAX_SESSION_AGE:
        return None
    expires_at = row.expires_at
    if now - row.last_seen > 60:  # at most one write a minute per session
        expires_at = now + session_lifetime()
        with eng.begin() as conn:
            conn.execute(
                m.sessions.update()
                .where(m.sessions.c.token_hash == key)
                .values(last_seen=now, expires_at=expires_at)
            )
    return Session(
        user=User(id=row.id, username=row.username, role=row.role),
        csrf_token=row.csrf_token,
        expires_at=expires_at,
    )


def end_session(eng: sa.engine.Engine, token: str | None) -> None:
    if token:
        with eng.begin() as conn:
            conn.execute(m.sessions.delete().where(m.sessions.c.token_hash == _hash_token(token)))


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
