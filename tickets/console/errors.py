"""Korean error pages in the console's style for people's pages, and `/` sending each person home.

The JSON API and the Twilio webhooks keep their own answers: machines read those, not people.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException, InternalServerError

MACHINE_PATHS = ("/api/", "/ivr/", "/institute/", "/health", "/metrics")
MESSAGES = {
    403: ("권한이 없습니다", "이 페이지는 지금 로그인한 역할로 열 수 없습니다."),
    404: ("페이지를 찾을 수 없습니다", "주소가 바뀌었거나, 볼 수 있는 건이 아닙니다."),
    500: ("일시적인 오류가 났습니다", "잠시 후 다시 시도해 주세요. 계속되면 관리자에게 알려 주세요."),
}


def _error_page(error: HTTPException) -> Any:
    if request.path.startswith(MACHINE_PATHS) or error.code not in MESSAGES:
        return error
    title, text = MESSAGES[error.code]
    return render_template("console/error.html", code=error.code, title=title, text=text), error.code


def _server_error(error: Exception) -> Any:
    original = InternalServerError(original_exception=error)
    return _error_page(original)


def _home() -> Any:
    from tickets.auth import current_user
    from tickets.console import _landing

    user = current_user()
    return redirect(_landing(user) if user else url_for("console.login"))


def init_app(app: Flask) -> None:
    for code in (403, 404):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(InternalServerError, _server_error)
    app.add_url_rule("/", "home", _home)
