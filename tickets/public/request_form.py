"""/request: the web request form, its SMS code step and its confirmation (tickets.web_requests works).

Every POST carries the session's CSRF token (tickets.auth.check_csrf). A refusal that counted something (a
code sent, a try used) is committed before the error page is shown: an error response otherwise rolls back.
The request being proved is named in the session by a random token; nothing typed is kept in the cookie.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers.response import Response

from callflows.flow_config import FlowConfig
from tickets import auth, clock, web_requests
from tickets.db import db
from tickets.masking import mask_number
from tickets.public import bp, language, recording_notice
from tickets.public.texts import text

_TOKEN = "web_request"  # the session key of the request waiting for its code
_FILED = "web_request_filed"  # the session key of the reference just filed, for the confirmation page


def _flow() -> FlowConfig:
    return current_app.config["HOTLINE"].flow  # type: ignore[no-any-return]


def _here(endpoint: str) -> str:
    return url_for(endpoint, lang=language()) if language() != "ko" else url_for(endpoint)


def _form_page(status: int = 200, **values: Any) -> tuple[str, int]:
    values.setdefault("answers", {})
    values.setdefault("problems", {})
    page = render_template(
        "public/request.html",
        lang=language(),
        flow=_flow(),
        notice=recording_notice(),
        description_max=web_requests.DESCRIPTION_MAX,
        name_max=web_requests.NAME_MAX,
        **values,
    )
    return page, status


@bp.get("/request")
def request_form() -> tuple[str, int]:
    return _form_page()


@bp.post("/request")
def send_code() -> Response | tuple[str, int]:
    auth.check_csrf()
    answers, problems = web_requests.check_answers(request.form, _flow(), language())
    if answers is None:
        return _form_page(400, answers=request.form, problems=problems, alert=text("problems", language()))
    try:
        started = web_requests.start(
            db.session(), answers, address=auth.client_address(), now=clock.now(), flow=_flow()
        )
    except web_requests.Refused as refused:
        db.session.commit()  # the count stands, though the page is an error
        return _form_page(429, answers=request.form, alert=text(refused.reason, language()))
    session[_TOKEN] = started.token
    return redirect(_here("public.code_form"), 303)


def _code_page(status: int = 200, alert: str | None = None) -> tuple[str, int]:
    waiting = web_requests.waiting(db.session(), session.get(_TOKEN), clock.now())
    if waiting is None:
        return render_template("public/gone.html", lang=language()), 404
    return render_template(
        "public/code.html",
        lang=language(),
        number=mask_number(waiting.callback_number),
        minutes=web_requests.CODE_MINUTES,
        alert=alert,
    ), status


@bp.get("/request/code")
def code_form() -> tuple[str, int]:
    return _code_page()


@bp.post("/request/code")
def check_code() -> Response | tuple[str, int]:
    auth.check_csrf()
    hotline = current_app.config["HOTLINE"]
    try:
        ticket = web_requests.prove_and_file(
            db.session(),
            session.get(_TOKEN),
            request.form.get("code", "")[:16],
            now=clock.now(),
            flow=_flow(),
            timezone=hotline.timezone,
        )
    except web_requests.Refused as refused:
        db.session.commit()  # the try counts
        if refused.reason == "not_found":
            return render_template("public/gone.html", lang=language()), 404
        return _code_page(400, text(refused.reason, language(), tries=refused.tries_left))
    session.pop(_TOKEN, None)
    session[_FILED] = ticket.reference
    return redirect(_here("public.filed"), 303)


@bp.post("/request/code/new")
def new_code() -> Response | tuple[str, int]:
    auth.check_csrf()
    try:
        web_requests.send_new_code(
            db.session(), session.get(_TOKEN), address=auth.client_address(), now=clock.now(), flow=_flow()
        )
    except web_requests.Refused as refused:
        db.session.commit()
        if refused.reason == "not_found":
            return render_template("public/gone.html", lang=language()), 404
        return _code_page(429, text(refused.reason, language()))
    return redirect(_here("public.code_form"), 303)


@bp.get("/request/done")
def filed() -> Response | tuple[str, int]:
    reference = session.get(_FILED)
    if not reference:
        return redirect(_here("public.request_form"), 303)
    return render_template(
        "public/done.html", lang=language(), reference=reference, days=_flow().promise_days
    ), 200
