"""The Sanic app on port 8080: a demo page of the police website with the chat
widget, placeholder pages for the privacy notice, accessibility statement and
feedback, and the widget's static files. Everything is served from here: no
CDN, no third-party requests, no cookies.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from bot.web.config import WidgetConfig

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# The placeholder pages: path -> (title, what the real page will be).
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "datenschutz": ("Datenschutzhinweise zum Chat", "die Datenschutzhinweise"),
    "barrierefreiheit": ("Erklärung zur Barrierefreiheit", "die Erklärung zur Barrierefreiheit"),
    "feedback": ("Rückmeldung zum Chat", "der Rückmeldeweg (Feedback)"),
}


def _origins(url: str) -> list[str]:
    """The http(s) and ws(s) origins of a socket.io server URL, for the CSP."""
    parts = urlsplit(url)
    if not parts.netloc:
        return []
    secure = parts.scheme in ("https", "wss")
    return [
        f"{'https' if secure else 'http'}://{parts.netloc}",
        f"{'wss' if secure else 'ws'}://{parts.netloc}",
    ]


def content_security_policy(socket_url: str) -> str:
    connect = " ".join(["'self'", *_origins(socket_url)])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'self'"
    )


def _render(name: str, **context: object) -> str:
    return TEMPLATES.get_template(name).render(**context)


def create_app(config: WidgetConfig, name: str = "kpb_web") -> Sanic:
    app = Sanic(name)
    app.config.FORWARDED_SECRET = None
    app.static("/static", str(STATIC_DIR), name="static")

    def widget_context(request: Request) -> dict[str, object]:
        scheme = "https" if request.scheme in ("https", "wss") else "http"
        return {
            "socket_url": config.socket_url_for(request.host, scheme),
            "socket_path": config.socket_path,
            "privacy_url": config.privacy_url,
            "accessibility_url": config.accessibility_url,
            "feedback_url": config.feedback_url,
            "retention_days": config.retention_days,
        }

    @app.get("/")
    async def index(request: Request) -> HTTPResponse:
        widget = widget_context(request)
        request.ctx.csp = content_security_policy(str(widget["socket_url"]))
        return response.html(_render("index.html", widget=widget, config=config))

    @app.get("/<page:(datenschutz|barrierefreiheit|feedback)>")
    async def placeholder(request: Request, page: str) -> HTTPResponse:
        title, what = PLACEHOLDERS[page]
        return response.html(_render("placeholder.html", title=title, what=what, config=config))

    @app.get("/favicon.ico")
    async def favicon(request: Request) -> HTTPResponse:
        return response.empty()

    @app.get("/healthz")
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.on_response
    async def security_headers(request: Request, resp: HTTPResponse) -> None:
        csp = getattr(request.ctx, "csp", None) or content_security_policy("")
        resp.headers.setdefault("Content-Security-Policy", csp)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.path.startswith("/static/"):
            # The widget is embedded into pages of other origins.
            resp.headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin")
            resp.headers.setdefault("Cache-Control", "no-cache")

    return app
