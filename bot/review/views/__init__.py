"""Pages of the review app that live in their own modules (route, queries, template).

`create_app` builds a `Context` with its helpers and calls `register`; each
page module adds its routes, messages and audit labels, so the pages stay
independent of each other and of app.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sanic import Sanic
from sanic.response import HTTPResponse


@dataclass(frozen=True)
class Context:
    render: Callable[..., HTTPResponse]  # render(request, template, status=200, **context)
    db: Callable[..., Awaitable[Any]]  # await db(fn, *args): fn(engine, *args) in a thread
    redirect: Callable[..., HTTPResponse]  # redirect(path, **query)
    intents: list[str]  # the domain's intents
    messages: dict[str, str]  # ?msg=... -> notice text
    audit_labels: dict[str, str]


def register(app: Sanic, ctx: Context) -> None:
    from bot.review.views import inbox

    inbox.register(app, ctx)
