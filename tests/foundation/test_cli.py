"""The `hotline` commands an operator uses to set up accounts and look at tickets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import werkzeug.serving
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ivr.server
from ivr.app import create_app
from ivr.cli import cli
from ivr.config import ROOT
from tests.conftest import test_config
from tickets import accounts
from tickets.models import Ticket, User


def _run(app: Flask, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(cli, list(args), input=input)


def test_users_add_with_fields_phone_and_password_from_stdin(app: Flask, session: Session) -> None:
    result = _run(
        app,
        "users",
        "add",
        "bio-seo",
        "--role",
        "consultant",
        "--fields",
        "bio,chemistry",
        "--phone",
        "010-2345-6789",
        "--password-stdin",
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.username == "bio-seo"))
    assert user is not None
    assert (user.role, user.fields, user.phone) == ("consultant", ["bio", "chemistry"], "+821023456789")
    assert accounts.password_matches(user, "correct horse battery")
    assert not accounts.password_matches(user, "wrong")
    assert "correct horse" not in (user.password_hash or "")


def test_users_add_refuses_bad_input_by_name(app: Flask) -> None:
    unknown_field = _run(app, "users", "add", "x1", "--role", "consultant", "--fields", "cooking")
    assert unknown_field.exit_code == 1 and "unknown field 'cooking'" in unknown_field.output
    bad_phone = _run(app, "users", "add", "x2", "--role", "consultant", "--phone", "12")
    assert bad_phone.exit_code == 1 and "not a valid phone number" in bad_phone.output
    assert _run(app, "users", "add", "x3", "--role", "consultant").exit_code == 0
    again = _run(app, "users", "add", "x3", "--role", "consultant")
    assert again.exit_code == 1 and "exists already" in again.output


def test_users_token_prints_a_token_that_authenticates_and_is_stored_hashed(
    app: Flask, session: Session
) -> None:
    assert _run(app, "users", "add", "sup", "--role", "supervisor").exit_code == 0
    result = _run(app, "users", "token", "sup")
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith(accounts.TOKEN_PREFIX)
    user = accounts.user_for_token(session, token)
    assert user is not None and user.username == "sup"
    assert all(token not in t.token_hash for t in user.tokens)
    accounts.revoke_tokens(session, user)
    assert accounts.user_for_token(session, token) is None
    assert _run(app, "users", "token", "nobody").exit_code == 1


def test_demo_seed_is_idempotent_and_covers_every_field(app: Flask, session: Session) -> None:
    first = _run(app, "demo", "seed")
    assert first.exit_code == 0, first.output
    users, tickets = (
        session.scalar(select(func.count(User.id))),
        session.scalar(select(func.count(Ticket.id))),
    )
    second = _run(app, "demo", "seed")
    assert second.exit_code == 0 and second.output == first.output
    assert session.scalar(select(func.count(User.id))) == users
    assert session.scalar(select(func.count(Ticket.id))) == tickets
    consultants = session.scalars(select(User).where(User.role == "consultant")).all()
    for field in app.config["HOTLINE"].routing.field_keys:
        assert sum(field in u.fields for u in consultants) >= 2, field
    assert session.scalar(select(func.count(User.id)).where(User.role == "supervisor")) >= 1
    assert "supervisor" in first.output and "hotline1379" in first.output


def test_tickets_list_and_show_print_the_ticket_json(app: Flask) -> None:
    _run(app, "demo", "seed")
    listed = json.loads(_run(app, "tickets", "list", "--json").output)
    assert len(listed) >= 7
    expected = {
        "reference",
        "status",
        "channel",
        "field",
        "support_type",
        "language",
        "company",
        "caller_number",
        "callback_number",
        "recording_url",
        "recording_duration",
        "call_sid",
        "incomplete",
        "assignee",
        "created_at",
        "sla_due_at",
        "escalation_level",
    }
    assert set(listed[0]) == expected
    reference = listed[0]["reference"]
    shown = json.loads(_run(app, "tickets", "show", reference.replace("-", ""), "--json").output)
    assert shown["reference"] == reference
    assert set(shown) == expected | {
        "attempts",
        "events",
        "referrals",
        "diagnosis",
        "contact_person",
        "description",
    }
    assert listed[0]["channel"] == "phone"
    assert shown["events"][0]["type"] == "created"
    assert "+00:00" in shown["created_at"]
    missing = _run(app, "tickets", "show", "0000-0000", "--json")
    assert missing.exit_code == 1 and "no ticket" in missing.output


def test_healthz_answers_for_load_balancers(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
    assert response.json["scheduler"] == "stopped"  # no scheduler runs in the tests


# --- SECRET_KEY: required to serve, except a development run on loopback ------------------------------------

REFUSED_RUNS = [
    ("0.0.0.0", {}),
    ("10.1.2.3", {}),
    ("hotline.internal", {}),
    ("127.0.0.1", {"PUBLIC_BASE_URL": "https://hotline.example.org", "TWILIO_AUTH_TOKEN": "t"}),
]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """What the CLI would have served (through gunicorn, or Flask's --dev server), instead of serving it."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *args, **_options: calls.append(args))
    monkeypatch.setattr(ivr.server, "serve", lambda *args, **_options: calls.append(args[1:]))
    return calls


@pytest.mark.parametrize(("host", "environ"), REFUSED_RUNS, ids=["any", "lan", "name", "public url"])
def test_serving_without_a_secret_key_is_refused(
    served: list[tuple[Any, ...]], host: str, environ: dict[str, str]
) -> None:
    app = create_app(test_config("sqlite://", SECRET_KEY="", **environ))
    for command in ("web", "run"):
        result = _run(app, command, "--host", host)
        assert result.exit_code == 2, result.output
        assert "SECRET_KEY: missing" in result.output
    assert served == []


def test_a_development_run_on_loopback_may_go_without_a_secret_key(served: list[tuple[Any, ...]]) -> None:
    app = create_app(test_config("sqlite://", SECRET_KEY=""))
    result = _run(app, "web", "--host", "127.0.0.1")
    assert result.exit_code == 0, result.output
    assert "SECRET_KEY is not set" in result.output
    assert [args[:2] for args in served] == [("127.0.0.1", 5000)]


def test_gunicorns_entry_point_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.sqlite3'}", "PYTHONPATH": str(ROOT)}
    env.pop("SECRET_KEY", None)
    start = [sys.executable, "-c", "import ivr.wsgi"]
    refused = subprocess.run(start, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "hotline: configuration error: environment: SECRET_KEY: missing" in refused.stderr
    started = subprocess.run(
        start, env={**env, "SECRET_KEY": "k"}, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 0, started.stderr
