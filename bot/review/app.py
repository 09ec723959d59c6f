"""The review app: Sanic routes, login middleware, CSRF, templates.

Every route needs a logged-in staff member except the login form itself
(PUBLIC_ROUTES); routes under /admin need the role `admin`. Every POST needs
the session's CSRF token (synchronizer token); the login form, which has no
session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import itertools
import logging
import os
import secrets
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from sanic import Sanic, response
from sanic.exceptions import NotFound, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import PROJECT_ROOT, settings
from bot.client_address import client_address
from bot.review import auth, charts, models, queries, throttle, views
from bot.review.privacy import mask, mask_email, mask_phone
from bot.review.views import analytics

HERE = Path(__file__).resolve().parent
logger = logging.getLogger(__name__)
SESSION_COOKIE = "review_session"
LOGIN_CSRF_COOKIE = "review_login_csrf"
DEVICE_COOKIE = "review_device"  # a browser the user logged in with before
SECURE_PREFIX = "__Host-"  # Secure, path /, no Domain: no other site or subdomain sets it
PUBLIC_ROUTES = {"login_form", "login_submit"}
ADMIN_PREFIX = "/admin"
MAX_PAGE = 100_000
_app_numbers = itertools.count(1)

MESSAGES = {
    "reviewed": "Gespräch als geprüft markiert.",
    "unreviewed": "Markierung „geprüft“ entfernt.",
    "tagged": "Schlagwort gespeichert.",
    "untagged": "Schlagwort entfernt.",
    "corrected": "Korrektur gespeichert.",
    "uncorrected": "Korrektur entfernt.",
    "deleted": "Gespräch gelöscht.",
    "status": "Status geändert.",
    "user_added": "Benutzer angelegt.",
    "user_disabled": "Benutzer gesperrt.",
    "user_enabled": "Benutzer entsperrt.",
    "retention": "Aufbewahrungsfrist angewendet.",
    "logged_out": "Sie sind abgemeldet.",
}

AUDIT_LABELS = {
    "login": "Anmeldung",
    "login_failed": "Anmeldung fehlgeschlagen",
    "contact_shown": "Kontaktdaten angezeigt",
    "user_add": "Benutzer angelegt",
    "user_disable": "Benutzer gesperrt",
    "user_enable": "Benutzer entsperrt",
    "user_password": "Passwort geändert",
    "user_role": "Rolle geändert",
    "review": "Als geprüft markiert",
    "review_undo": "Markierung „geprüft“ entfernt",
    "tag_add": "Schlagwort hinzugefügt",
    "tag_remove": "Schlagwort entfernt",
    "correction": "Intent korrigiert",
    "correction_remove": "Korrektur entfernt",
    "conversation_delete": "Gespräch gelöscht",
    "retention": "Aufbewahrungsfrist angewendet",
    "request_status": "Status Besuchsanfrage geändert",
    "requests_export": "Besuchsanfragen exportiert (CSV)",
}


def domain_intents() -> list[str]:
    """The intents of domain.yml (the choices for a correction)."""
    with open(PROJECT_ROOT / "domain.yml", encoding="utf-8") as fh:
        domain = yaml.safe_load(fh) or {}
    names = []
    for item in domain.get("intents") or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return names


def retention_days_default() -> int:
    value = os.environ.get("BOT_RETENTION_DAYS", "").strip()
    return int(value) if value else 90


def _fmt_time(value: dt.datetime | float | None, with_seconds: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        value = queries.local_time(value)
    elif value.tzinfo is None:  # SQLite returns naive UTC
        value = value.replace(tzinfo=dt.timezone.utc)
    value = value.astimezone(queries.TZ)  # type: ignore[union-attr]
    return value.strftime("%d.%m.%Y %H:%M:%S" if with_seconds else "%d.%m.%Y %H:%M")


def _fmt_date(value: dt.date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _env_flag(name: str) -> bool | None:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    return value in ("1", "true", "yes", "on")


def page_number(value: str | None) -> int:
    """The `page` argument: text that is no number means page 1; numbers out of
    range are a clean 400 (they used to reach the database and give a 500)."""
    try:
        page = int(value or 1)
    except ValueError:
        return 1
    if page > MAX_PAGE:
        from sanic.exceptions import InvalidUsage

        raise InvalidUsage("page out of range")
    return max(1, page)


MAX_ID = 2**31 - 1  # larger numbers overflow the database's integer columns


def row_id(value: int) -> int:
    """A database id from the URL or a form; out of range means "not found"."""
    if not 1 <= value <= MAX_ID:
        raise NotFound("no such id")
    return value


def create_app(
    database_url: str | None = None,
    *,
    secure_cookies: bool | None = None,
    trusted_proxies: tuple[str, ...] | None = None,
) -> Sanic:
    """The review app for `database_url` (default BOT_DATABASE_URL).

    secure_cookies: cookies are Secure and named with the `__Host-` prefix, unless
    REVIEW_INSECURE_COOKIES=1 (only for local development over plain http
    from another host than localhost).
    trusted_proxies: addresses of reverse proxies whose X-Forwarded-For is
    believed (env BOT_TRUSTED_PROXIES); from anyone else it is ignored.
    """
    eng = models.engine(database_url)
    if secure_cookies is None:
        secure_cookies = not _env_flag("REVIEW_INSECURE_COOKIES")
    if trusted_proxies is None:
        trusted_proxies = settings.load().trusted_proxies
    prefix = SECURE_PREFIX if secure_cookies else ""
    session_cookie = prefix + SESSION_COOKIE
    login_csrf_cookie = prefix + LOGIN_CSRF_COOKIE
    device_cookie = prefix + DEVICE_COOKIE
    intents = domain_intents()

    app = Sanic(f"kpb_review_{next(_app_numbers)}")
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.FALLBACK_ERROR_FORMAT = "text"

    css = (HERE / "static" / "review.css").read_text(encoding="utf-8")
    css_hash = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = (
        "default-src 'none'; "
        f"style-src 'sha256-{css_hash}'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    jinja = Environment(
        loader=FileSystemLoader(str(HERE / "templates")), autoescape=True, trim_blocks=True
    )
    jinja.filters.update(
        time=_fmt_time,
        date=_fmt_date,
        mask=mask,
        mask_email=mask_email,
        mask_phone=mask_phone,
    )
    jinja.globals.update(
        css=Markup(css),
        FLAGS=queries.FLAGS,
        REVIEW_STATES=queries.REVIEW_STATES,
        STATUS_LABELS=queries.STATUS_LABELS,
        AUDIT_LABELS=AUDIT_LABELS,
    )

    async def db(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(partial(fn, eng, *args, **kwargs))

    def client_ip(request: Request) -> str:
        return client_address(
            request.ip, request.headers.get("x-forwarded-for"), trusted_proxies
        )

    def set_cookie(resp: HTTPResponse, name: str, value: str, max_age: int | None = None) -> None:
        resp.cookies[name] = value
        cookie = resp.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"  # required by __Host-
        if secure_cookies:
            cookie["secure"] = True
        if max_age is not None:
            cookie["max-age"] = max_age

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTTPResponse:
        session = getattr(request.ctx, "session", None)
        msg = request.args.get("msg", "")
        html = jinja.get_template(name).render(
            session=session,
            user=session.user if session else None,
            csrf_token=session.csrf_token if session else "",
            message=MESSAGES.get(msg, ""),
            path=request.path,
            **context,
        )
        return response.html(html, status=status)

    def redirect(path: str, **args: str) -> HTTPResponse:
        query = urlencode({k: v for k, v in args.items() if v})
        return response.redirect(f"{path}?{query}" if query else path, status=303)

    def safe_next(value: str | None) -> str:
        if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
            return value
        return "/"

    # --- middleware ----------------------------------------------------------------
    @app.on_request
    async def guard(request: Request) -> HTTPResponse | None:
        route = getattr(request, "route", None)
        handler = route.name.rsplit(".", 1)[-1] if route else ""
        if handler in PUBLIC_ROUTES:
            return None
        session = await db(auth.load_session, request.cookies.get(session_cookie))
        request.ctx.session = session
        if session is None:
            if request.path.startswith("/api/"):
                return response.json({"error": "Anmeldung erforderlich"}, status=401)
            if request.method in ("GET", "HEAD"):
                return redirect("/login", next=request.path)
            return response.text("Anmeldung erforderlich", status=401)
        if request.path.startswith(ADMIN_PREFIX) and not session.user.is_admin:
            return render(
                request,
                "error.html",
                status=403,
                title="Kein Zugriff",
                text="Diese Seite ist der Rolle Administration vorbehalten.",
            )
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            given = request.form.get("csrf_token") if request.form else None
            given = given or request.headers.get("x-csrf-token")
            if not auth.tokens_match(session.csrf_token, given):
                return render(
                    request,
                    "error.html",
                    status=403,
                    title="Ungültiges Formular",
                    text="Das Formular ist abgelaufen oder ungültig (CSRF-Schutz). "
                    "Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
                )
        return None

    @app.on_response
    async def security_headers(request: Request, resp: HTTPResponse) -> None:
        resp.headers.setdefault("Content-Security-Policy", csp)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers.setdefault("Cache-Control", "no-store")

    @app.exception(NotFound)
    async def not_found(request: Request, exc: Exception) -> HTTPResponse:
        return render(
            request,
            "error.html",
            status=404,
            title="Nicht gefunden",
            text="Diese Seite gibt es nicht.",
        )

    @app.exception(Exception)
    async def server_error(request: Request, exc: Exception) -> HTTPResponse:
        status = exc.status_code if isinstance(exc, SanicException) else 500
        if status >= 500:
            logger.exception("review app: %s %s failed", request.method, request.path, exc_info=exc)
        text = (
            "Die Anfrage konnte nicht bearbeitet werden."
            if status >= 500
            else "Die Anfrage ist ungültig und wurde nicht bearbeitet."
        )
        return render(request, "error.html", status=status, title="Fehler", text=text)

    # --- login -----------------------------------------------------------------------
    def login_token(request: Request) -> str:
        """The login form's double-submit token: kept while its cookie lives, so that
        parallel requests (a favicon redirected to /login) do not invalidate the form."""
        current = request.cookies.get(login_csrf_cookie, "")
        if 32 <= len(current) <= 64 and current.replace("-", "").replace("_", "").isalnum():
            return current
        return secrets.token_urlsafe(32)

    @app.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        request.ctx.session = None
        token = login_token(request)
        resp = render(
            request,
            "login.html",
            login_token=token,
            next=safe_next(request.args.get("next")),
            error="",
        )
        set_cookie(resp, login_csrf_cookie, token, max_age=3600)
        return resp

    @app.post("/login")
    async def login_submit(request: Request) -> HTTPResponse:
        request.ctx.session = None
        form = request.form or {}
        username = (form.get("username") or "").strip()[:64]
        password = form.get("password") or ""
        next_path = safe_next(form.get("next"))
        address = client_ip(request)

        def fail(error: str, status: int) -> HTTPResponse:
            token = login_token(request)
            resp = render(
                request,
                "login.html",
                status=status,
                login_token=token,
                next=next_path,
                error=error,
                username=username,
            )
            set_cookie(resp, login_csrf_cookie, token, max_age=3600)
            return resp

        if not auth.tokens_match(request.cookies.get(login_csrf_cookie), form.get("csrf_token")):
            return fail("Das Formular ist abgelaufen. Bitte erneut anmelden.", 403)
        device = request.cookies.get(device_cookie)
        known = await db(auth.known_device, device, username)
        keys = throttle.keys_for(username, address, known)
        # Counted before the password is checked: parallel tries cannot slip through.
        wait = await db(throttle.begin_attempt, keys)
        if wait > 0:
            return fail(f"Zu viele Fehlversuche. Bitte warten Sie {int(wait) + 1} Sekunden.", 429)
        user = await db(auth.authenticate, username, password)
        if user is None:

            def log_failure(eng: Any) -> None:
                with eng.begin() as conn:
                    models.audit(conn, "(Anmeldeversuch)", "login_failed", username, address)

            await db(log_failure)
            return fail("Benutzername oder Passwort ist falsch.", 401)
        await db(throttle.succeeded, keys)
        token = await db(auth.create_session, user)
        resp = response.redirect(next_path, status=303)
        set_cookie(resp, session_cookie, token)
        device = await db(auth.remember_device, user, device)
        set_cookie(resp, device_cookie, device, max_age=auth.KNOWN_DEVICE_DAYS * 86400)
        set_cookie(resp, login_csrf_cookie, "", max_age=0)
        return resp

    @app.post("/logout")
    async def logout(request: Request) -> HTTPResponse:
        await db(auth.end_session, request.cookies.get(session_cookie))
        resp = redirect("/login", msg="logged_out")
        set_cookie(resp, session_cookie, "", max_age=0)
        return resp

    # --- overview --------------------------------------------------------------------
    @app.get("/")
    async def overview(request: Request) -> HTTPResponse:
        data = await db(queries.overview)
        return render(
            request,
            "overview.html",
            data=data,
            chart_conversations=charts.bar_chart(
                data.days, data.conversations_per_day, "Gespräche pro Tag"
            ),
            chart_urgent=charts.bar_chart(
                data.days, data.urgent_per_day, "Notfälle (110) pro Tag", css="bar-urgent"
            ),
            chart_intents=charts.hbar_chart(data.top_intents, "Häufigste Anliegen (Intents)"),
            chart_fallback=charts.share_bar(
                data.fallback_messages, data.messages, "Anteil nicht verstandener Nachrichten"
            ),
            **await db(analytics.template_context),
        )

    # --- conversations ---------------------------------------------------------------
    @app.get("/conversations")
    async def conversations(request: Request) -> HTTPResponse:
        filters = queries.Filters.from_args(request.args.get)
        rows, total = await db(queries.list_conversations, filters)
        pages = max(1, -(-total // queries.PAGE_SIZE))
        return render(
            request,
            "conversations.html",
            rows=rows,
            total=total,
            filters=filters,
            pages=pages,
            intents=sorted(set(intents) | set(await db(queries.known_intents))),
            page_url=lambda n: "/conversations?" + urlencode(filters.query_args(page=n)),
        )

    def audit_contact_shown(user: str, target: str, what: str) -> Callable[[Any], None]:
        def write(eng: Any) -> None:
            with eng.begin() as conn:
                models.audit(conn, user, "contact_shown", target, what)

        return write

    @app.get("/conversation")
    async def conversation(request: Request) -> HTTPResponse:
        sender_id = request.args.get("id", "")
        data = await db(queries.transcript, sender_id) if sender_id else None
        if data is None:
            raise NotFound("conversation")
        return render(request, "conversation.html", t=data, intents=intents, revealed=False)

    @app.post("/conversation/reveal")
    async def conversation_reveal(request: Request) -> HTTPResponse:
        """The transcript with e-mail addresses and phone numbers in clear (audited)."""
        sender_id = request.form.get("sender_id", "")
        data = await db(queries.transcript, sender_id, reveal=True) if sender_id else None
        if data is None:
            raise NotFound("conversation")
        user = request.ctx.session.user.username
        await db(audit_contact_shown(user, sender_id, "Gesprächsverlauf"))
        return render(request, "conversation.html", t=data, intents=intents, revealed=True)

    def _back(sender_id: str, msg: str) -> HTTPResponse:
        return redirect("/conversation", id=sender_id, msg=msg)

    @app.post("/conversation/review")
    async def conversation_review(request: Request) -> HTTPResponse:
        sender_id = request.form.get("sender_id", "")
        reviewed = request.form.get("reviewed") != "0"
        user = request.ctx.session.user.username
        if not await db(queries.set_reviewed, sender_id, reviewed, user):
            raise NotFound("conversation")
        return _back(sender_id, "reviewed" if reviewed else "unreviewed")

    @app.post("/conversation/tag")
    async def conversation_tag(request: Request) -> HTTPResponse:
        sender_id = request.form.get("sender_id", "")
        tag = request.form.get("tag", "")
        user = request.ctx.session.user.username
        if request.form.get("remove"):
            await db(queries.remove_tag, sender_id, tag, user)
            return _back(sender_id, "untagged")
        if not await db(queries.add_tag, sender_id, tag, user):
            raise NotFound("conversation")
        return _back(sender_id, "tagged")

    @app.post("/conversation/correct")
    async def conversation_correct(request: Request) -> HTTPResponse:
        sender_id = request.form.get("sender_id", "")
        intent = request.form.get("intent", "")
        try:
            event_id = row_id(int(request.form.get("event_id", "")))
        except ValueError:
            raise NotFound("message") from None
        if intent and intent not in intents:
            return render(
                request,
                "error.html",
                status=400,
                title="Unbekannter Intent",
                text="Bitte wählen Sie einen Intent aus der Liste.",
            )
        user = request.ctx.session.user.username
        if not await db(queries.correct_intent, sender_id, event_id, intent or None, user):
            raise NotFound("message")
        return redirect("/conversation", id=sender_id, msg="corrected" if intent else "uncorrected")

    @app.post("/admin/conversation/delete")
    async def conversation_delete(request: Request) -> HTTPResponse:
        sender_id = request.form.get("sender_id", "")
        if request.form.get("confirm") != "yes":
            return render(
                request,
                "error.html",
                status=400,
                title="Nicht gelöscht",
                text="Bitte bestätigen Sie das Löschen mit dem Kontrollkästchen.",
            )
        await db(queries.delete_conversation, sender_id, request.ctx.session.user.username)
        return redirect("/conversations", msg="deleted")

    # --- visitor requests --------------------------------------------------------------
    @app.get("/requests")
    async def requests_list(request: Request) -> HTTPResponse:
        status = request.args.get("status", "")
        page = page_number(request.args.get("page"))
        rows, total = await db(queries.list_requests, status, page)
        return render(
            request,
            "requests.html",
            rows=rows,
            total=total,
            status_filter=status,
            page=page,
            pages=max(1, -(-total // queries.PAGE_SIZE)),
        )

    @app.get("/requests/<request_id:int>")
    async def request_detail(request: Request, request_id: int) -> HTTPResponse:
        row = await db(queries.get_request, row_id(request_id))
        if row is None:
            raise NotFound("request")
        return render(request, "request.html", r=row, revealed=False)

    @app.post("/requests/<request_id:int>/reveal")
    async def request_reveal(request: Request, request_id: int) -> HTTPResponse:
        """The request with the contact data in clear (audited)."""
        row = await db(queries.get_request, row_id(request_id))
        if row is None:
            raise NotFound("request")
        user = request.ctx.session.user.username
        await db(audit_contact_shown(user, row.reference, "Besuchsanfrage"))
        return render(request, "request.html", r=row, revealed=True)

    @app.post("/requests/<request_id:int>/status")
    async def request_status(request: Request, request_id: int) -> HTTPResponse:
        status = request.form.get("status", "")
        user = request.ctx.session.user.username
        if not await db(queries.set_request_status, row_id(request_id), status, user):
            raise NotFound("request")
        return redirect(f"/requests/{request_id}", msg="status")

    @app.get("/requests/export.csv")
    async def requests_export(request: Request) -> HTTPResponse:
        # Full contact data of every request: administrators only.
        if not request.ctx.session.user.is_admin:
            return render(
                request,
                "error.html",
                status=403,
                title="Kein Zugriff",
                text="Der Export mit allen Kontaktdaten ist der Rolle Administration vorbehalten.",
            )
        status = request.args.get("status", "")
        text = await db(queries.requests_csv, status)

        def log_export(eng: Any) -> None:
            with eng.begin() as conn:
                models.audit(
                    conn, request.ctx.session.user.username, "requests_export", status or "alle"
                )

        await db(log_export)
        return response.text(
            "\ufeff" + text,
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="besuchsanfragen.csv"'},
        )

    # --- administration ----------------------------------------------------------------
    @app.get("/admin/users")
    async def admin_users(request: Request) -> HTTPResponse:
        return render(
            request,
            "admin_users.html",
            users=await db(auth.list_users),
            error=request.args.get("error", ""),
        )

    @app.post("/admin/users")
    async def admin_users_change(request: Request) -> HTTPResponse:
        form = request.form
        action = form.get("action", "")
        username = form.get("username", "").strip()
        actor = request.ctx.session.user.username
        try:
            if action == "add":
                await db(
                    auth.add_user, username, form.get("password", ""), form.get("role", ""), actor
                )
                return redirect("/admin/users", msg="user_added")
            if action in ("disable", "enable"):
                if action == "disable" and username == actor:
                    raise auth.AuthError("Sie können sich nicht selbst sperren.")
                await db(auth.set_disabled, username, action == "disable", actor)
                return redirect("/admin/users", msg=f"user_{action}d")
        except auth.AuthError as exc:
            return render(
                request,
                "admin_users.html",
                status=400,
                users=await db(auth.list_users),
                error=str(exc),
            )
        raise NotFound("action")

    @app.get("/admin/retention")
    async def admin_retention(request: Request) -> HTTPResponse:
        return render(request, "admin_retention.html", days=retention_days_default(), result=None)

    @app.post("/admin/retention")
    async def admin_retention_run(request: Request) -> HTTPResponse:
        try:
            days = int(request.form.get("days", ""))
            if not 1 <= days <= queries.MAX_RETENTION_DAYS:
                raise ValueError
        except ValueError:
            return render(
                request,
                "error.html",
                status=400,
                title="Ungültige Eingabe",
                text="Bitte geben Sie eine Zahl von Tagen an (1 bis 36500).",
            )
        result = await db(queries.apply_retention, days, request.ctx.session.user.username)
        return render(request, "admin_retention.html", days=days, result=result)

    @app.get("/admin/audit")
    async def admin_audit(request: Request) -> HTTPResponse:
        page = page_number(request.args.get("page"))
        rows, total = await db(queries.audit_entries, page)
        return render(
            request,
            "admin_audit.html",
            rows=rows,
            total=total,
            page=page,
            pages=max(1, -(-total // 100)),
        )

    # --- JSON API (same login, same CSRF rule for changes) ---------------------------------
    @app.get("/api/conversations")
    async def api_conversations(request: Request) -> HTTPResponse:
        filters = queries.Filters.from_args(request.args.get)
        rows, total = await db(queries.list_conversations, filters)
        return response.json(
            {
                "total": total,
                "page": filters.page,
                "conversations": [
                    {
                        "id": r.sender_id,
                        "last_time": _fmt_time(r.last_ts),
                        "turns": r.turns,
                        "first_message": r.first_message,
                        "intents": r.intents,
                        "flags": r.flags,
                        "reviewed": r.reviewed,
                        "tags": r.tags,
                    }
                    for r in rows
                ],
            }
        )

    @app.get("/api/overview")
    async def api_overview(request: Request) -> HTTPResponse:
        data = await db(queries.overview)
        return response.json(
            {
                "days": [d.isoformat() for d in data.days],
                "conversations_per_day": data.conversations_per_day,
                "urgent_per_day": data.urgent_per_day,
                "top_intents": data.top_intents,
                "fallback_share": data.fallback_share,
                "open_visitor_requests": data.open_requests,
            }
        )

    # Pages in their own modules (bot/review/views/).
    views.register(
        app,
        views.Context(
            render=render,
            db=db,
            redirect=redirect,
            intents=intents,
            messages=MESSAGES,
            audit_labels=AUDIT_LABELS,
        ),
    )

    from bot.review.views import feedback as feedback_view

    feedback_view.register(app, render=render, run_db=db)

    app.ctx.engine = eng
    return app


def serve(
    host: str | None = None, port: int | None = None, database_url: str | None = None
) -> None:
    """Run the review app in this process (blocking). Host: argument, else env
    REVIEW_HOST, else 127.0.0.1 (a reverse proxy with TLS publishes it)."""
    conf = settings.load()
    app = create_app(database_url or conf.database_url)
    host = host or conf.review_host
    app.run(host=host, port=port or conf.review_port, access_log=False, motd=False)
