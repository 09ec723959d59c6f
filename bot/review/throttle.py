"""Login throttling of the review app: counted before the password is checked.

Each login attempt first takes a slot on every key that applies, in one
compare-and-swap UPDATE per key, so parallel wrong passwords cannot all pass
the check before the first failure is written (SQLite and PostgreSQL alike).
A key whose lock has not expired refuses the attempt, and the password is not
even verified.

Keys and their policies (after `free` attempts each further one waits
`base`, 2·`base`, 4·`base` ... seconds, at most `max_lock`):
- `pair:USER|ADDRESS`: 3 free, then 2, 4, 8 ... s, at most 15 min.
  Guessing one account from one address.
- `ip:ADDRESS`: 10 free, then 2, 4 ... s, at most 15 min. Spraying many
  accounts from one address.
- `user:USER`: 10 free, then 30 s, 60 s ..., at most 5 min: slower, and only for
  browsers the user has not logged in with before (no known-device cookie,
  bot/review/auth.py). Guessing one account from many addresses; since the
  user's own browsers are exempt, nobody can keep a staff member locked out.

A successful login clears the pair and address keys and takes back its own
count on the user key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from bot.review import models as m

FAILURE_MEMORY = 24 * 3600  # a counter is forgotten after a quiet day


@dataclass(frozen=True)
class Policy:
    free: int  # attempts that never wait
    base: float  # first wait, seconds
    max_lock: float  # longest wait, seconds

    def lock(self, attempts: int) -> float:
        """The wait after the `attempts`-th attempt (before the next one)."""
        if attempts < self.free:
            return 0.0
        return float(min(self.max_lock, self.base * 2 ** (attempts - self.free)))


PAIR = Policy(free=3, base=2, max_lock=15 * 60)
ADDRESS = Policy(free=10, base=2, max_lock=15 * 60)
USER = Policy(free=10, base=30, max_lock=5 * 60)


def keys_for(username: str, address: str, known_device: bool) -> dict[str, Policy]:
    user = username.lower()[:64]
    keys = {f"pair:{user}|{address}": PAIR, f"ip:{address}": ADDRESS}
    if not known_device:
        keys[f"user:{user}"] = USER
    return keys


def _locked_until(policy: Policy, attempts: int, now: float) -> float:
    lock = policy.lock(attempts)
    return now + lock if lock > 0 else 0.0  # 0: not locked, whatever the clock of others


def _take(conn: sa.engine.Connection, key: str, policy: Policy, now: float) -> float:
    """Count one attempt on `key`; 0 when allowed, else the seconds to wait."""
    t = m.login_failures
    for _ in range(50):
        row = conn.execute(sa.select(t).where(t.c.key == key)).first()
        if row is None:
            try:
                conn.execute(
                    t.insert().values(
                        key=key,
                        failures=1,
                        last_failure_at=now,
                        locked_until=_locked_until(policy, 1, now),
                    )
                )
                conn.commit()
                return 0.0
            except sa.exc.IntegrityError:
                conn.rollback()  # inserted in parallel: read again
                continue
        if row.locked_until > now:
            return row.locked_until - now
        attempts = (row.failures if now - row.last_failure_at < FAILURE_MEMORY else 0) + 1
        changed = conn.execute(
            t.update()
            .where(
                t.c.key == key,
                t.c.failures == row.failures,
                t.c.last_failure_at == row.last_failure_at,
            )
            .values(
                failures=attempts,
                last_failure_at=now,
                locked_until=_locked_until(policy, attempts, now),
            )
        ).rowcount
        conn.commit()
        if changed == 1:
            return 0.0
    return 1.0  # heavy contention on one key: treat as throttled


def begin_attempt(
    eng: sa.engine.Engine, keys: dict[str, Policy], now: float | None = None
) -> float:
    """Count an attempt on every key; 0 when it may go on, else seconds to wait."""
    now = time.time() if now is None else now
    for key in sorted(keys):
        with eng.connect() as conn:
            wait = _take(conn, key, keys[key], now)
        if wait > 0:
            return wait
    return 0.0


def succeeded(eng: sa.engine.Engine, keys: dict[str, Policy]) -> None:
    """A correct password: clear the pair and address keys, undo the user key's count."""
    t = m.login_failures
    with eng.begin() as conn:
        conn.execute(
            t.delete().where(t.c.key.in_([k for k in keys if not k.startswith("user:")]))
        )
        for key in (k for k in keys if k.startswith("user:")):
            conn.execute(
                t.update().where(t.c.key == key, t.c.failures > 0).values(failures=t.c.failures - 1)
            )


def clear(eng: sa.engine.Engine, keys: list[str]) -> None:
    with eng.begin() as conn:
        conn.execute(m.login_failures.delete().where(m.login_failures.c.key.in_(keys)))


def wait_remaining(eng: sa.engine.Engine, keys: list[str], now: float | None = None) -> float:
    """Seconds until every key may try again (0 when none is locked)."""
    now = time.time() if now is None else now
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(m.login_failures.c.locked_until).where(m.login_failures.c.key.in_(keys))
        ).all()
    return max([0.0, *(row.locked_until - now for row in rows)])
