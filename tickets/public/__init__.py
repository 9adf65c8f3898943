"""The public pages, for companies and no login: the web request form (/request) and the privacy notice
(/privacy). Korean first with an English switch (`?lang=en`), made for a phone first; styles in static/,
since the Content-Security-Policy allows no inline style or script."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request

from callflows import prompts
from callflows.flow_config import LANGUAGES
from tickets.public.texts import text

bp = Blueprint(
    "public", __name__, template_folder="templates", static_folder="static", static_url_path="/public/static"
)


def recording_notice() -> str:
    """The notice callers hear before the beep (config.yaml `prompts.recording_notice`): the form and /privacy
    show the very same words."""
    return prompts.configured_text(current_app.config["HOTLINE"].flow, "recording_notice", language())


def language() -> str:
    """The page's language: `lang` in the query or the form, else Korean."""
    wanted = request.values.get("lang", "ko")
    return wanted if wanted in LANGUAGES else "ko"


@bp.app_template_global("t")
def _translate(key: str, **values: object) -> str:
    return text(key, language(), **values)


@bp.after_request
def _not_cached(response: Response) -> Response:
    # The form's pages hold a caller's answers and a session: never kept by a shared cache.
    if request.endpoint != "public.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    from tickets.public import privacy, request_form  # noqa: F401  (their routes are on bp)

    app.register_blueprint(bp)
