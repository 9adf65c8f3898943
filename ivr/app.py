"""The application factory: config in, a Flask app with every package's blueprints out."""

from __future__ import annotations

import logging
import secrets

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr import health, logs, metrics, outbound, security_headers, webhooks
from ivr.config import ConfigError, HotlineConfig, load_config
from ivr.gateway import make_telephony
from supervisor import alerts_api, dashboard, referral_pages
from tickets import api, auth, console, institute_page, public, referrals_api, sla
from tickets.db import db

log = logging.getLogger(__name__)


def create_app(config: HotlineConfig | None = None) -> Flask:
    config = config or load_config()
    app = Flask(__name__)
    app.config.update(
        HOTLINE=config,
        DATABASE_URL=config.database_url,
        SECRET_KEY=config.secret_key or _development_secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(config.public_base_url and config.public_base_url.startswith("https://")),
        MAX_CONTENT_LENGTH=1024 * 1024,  # webhooks and forms are small; refuse anything larger early
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if config.logins.proxies_in_front:  # the client's own address, for the login throttle (tickets.auth)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.logins.proxies_in_front)  # type: ignore[method-assign]
    logs.init_app(app)  # first: a request id for every line, and the request's own line last
    security_headers.init_app(app)  # on every response, errors included
    metrics.init_app(app)  # every request counted; /metrics when enabled
    db.init_app(app)
    sla.init_app(app)  # the deadlines every ticket service stamps
    health.init_app(app)
    auth.init_app(app)
    webhooks.init_app(app)  # the Twilio call flow under /ivr
    dashboard.init_app(app)  # the supervisor dashboard under /supervisor
    referral_pages.init_app(app)  # the referral figures under /supervisor
    alerts_api.init_app(app)  # supervisors' SLA alerts under /api/v1/sla
    app.extensions["telephony"] = make_telephony(config)  # tickets.telephony.telephony() finds it
    api.init_app(app)  # the consultant JSON API under /api/v1
    referrals_api.init_app(app)  # partner institutes and referrals under /api/v1
    institute_page.init_app(app)  # the institutes' private answer page under /institute
    console.init_app(app)  # the consultant console under /console
    public.init_app(app)  # the web request form (/request) and the privacy notice (/privacy)
    outbound.init_app(app)  # click-to-call's consultant leg under /ivr/outbound
    return app


def _development_secret() -> str:
    # Without SECRET_KEY sessions last only as long as this process, and each worker would sign with its
    # own key: fine for tests and a laptop's `hotline run`, refused by require_secret_key everywhere else.
    return secrets.token_hex(32)


def require_secret_key(config: HotlineConfig) -> None:
    """Serving for real needs SECRET_KEY: it signs console sessions and CSRF tokens in every worker alike."""
    if not config.secret_key:
        raise ConfigError(
            "environment: SECRET_KEY: missing; it signs console sessions and must be the same in every "
            "worker (make one with: python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
