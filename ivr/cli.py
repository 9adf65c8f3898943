"""The `hotline` command: a Flask CLI group over the app factory."""

from __future__ import annotations

import ipaddress
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from ivr import logs, server
from ivr.app import create_app, require_secret_key
from ivr.audit_cli import audit_group
from ivr.config import ConfigError, HotlineConfig, load_config
from ivr.institutes_cli import institutes_group
from ivr.privacy_cli import privacy_group
from ivr.signature import warn_about_development_token
from ivr.webhooks import replay_at_startup
from tickets import accounts, demo
from tickets.db import db
from tickets.masking import mask_number
from tickets.migrate import upgrade
from tickets.models import Ticket
from tickets.references import normalise_reference
from tickets.serialize import ticket_json


def _config() -> HotlineConfig:
    return current_app.config["HOTLINE"]


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False, add_version_option=False)
def cli() -> None:
    """Hotline 1379: call flow, expert callback queue and SLA escalation."""


def _serving_options(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(
        [
            click.option("--host", default="127.0.0.1", show_default=True),
            click.option("--port", default=5000, show_default=True, type=int),
            click.option("--dev", is_flag=True, help="Flask's reloading development server."),
        ]
    ):
        command = option(command)
    return command


@cli.command("run")
@_serving_options
@click.option("--threads", default=server.THREADS, show_default=True, help="Requests answered at once.")
@with_appcontext
def run_command(host: str, port: int, dev: bool, threads: int) -> None:
    """Web app plus the embedded scheduler, on one machine: gunicorn with one worker that runs both."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    _require_secret_key_unless_local(app, host)
    click.echo(f"Hotline 1379 on http://{host}:{port}/ (scheduler embedded; Ctrl+C stops both)")
    _serve(app, host, port, dev=dev, embed_scheduler=True, workers=1, threads=threads)


@cli.command("web")
@_serving_options
@click.option("--workers", default=server.WORKERS, show_default=True, help="Worker processes.")
@click.option("--threads", default=server.THREADS, show_default=True, help="Request threads per worker.")
@with_appcontext
def web_command(host: str, port: int, dev: bool, workers: int, threads: int) -> None:
    """The web app alone (webhooks, console, API) under gunicorn, as deploy/hotline-web.service runs it."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    _require_secret_key_unless_local(app, host)
    _serve(app, host, port, dev=dev, embed_scheduler=False, workers=workers, threads=threads)


def _require_secret_key_unless_local(app: Flask, host: str) -> None:
    """Refuse to serve without SECRET_KEY (exit 2), except a development run that nobody else can reach.

    Development means: bound to loopback (`make run`'s demo) and no PUBLIC_BASE_URL (no Twilio, no tunnel).
    There a key made up per process only means that logins end when it stops. Anywhere else a made-up
    key is a mistake: sessions break on every restart and across hosts, so it is refused as gunicorn is.
    """
    config = app.config["HOTLINE"]
    if config.secret_key:
        return
    if _is_loopback(host) and not config.public_base_url:
        click.echo("warning: SECRET_KEY is not set: console logins end when this process stops", err=True)
        return
    try:
        require_secret_key(config)
    except ConfigError as error:
        click.echo(
            f"hotline: configuration error: {error} (only a run on 127.0.0.1 may go without)", err=True
        )
        sys.exit(2)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _serve(
    app: Flask, host: str, port: int, *, dev: bool, embed_scheduler: bool, workers: int, threads: int
) -> None:
    if not dev:
        warn_about_development_token(app)
        replay_at_startup(app)  # once, in the master, before the workers fork
        server.serve(app, host, port, workers=workers, threads=threads, embed_scheduler=embed_scheduler)
        return
    from werkzeug.serving import is_running_from_reloader, run_simple

    # The reloader's outer process only watches the files; the process it starts serves (and schedules).
    if not is_running_from_reloader():
        run_simple(host, port, app, threaded=True, use_reloader=True)
        return
    warn_about_development_token(app)
    replay_at_startup(app)
    scheduler = _start_embedded_scheduler(app) if embed_scheduler else None
    try:
        run_simple(host, port, app, threaded=True, use_reloader=True)
    finally:
        if scheduler is not None:
            from scheduler import runner

            runner.shutdown(scheduler, app)


def _start_embedded_scheduler(app: Flask) -> Any:
    from apscheduler.schedulers.background import BackgroundScheduler

    from scheduler import runner

    scheduler = BackgroundScheduler(timezone="UTC")
    runner.configure(scheduler, app)
    scheduler.start()
    return scheduler


@cli.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """The scheduler as its own process (SLA sweep, notifications, heartbeat). Stops cleanly on SIGTERM."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from scheduler import runner

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = BlockingScheduler(timezone="UTC")
    runner.configure(scheduler, app)

    def stop(signum: int, _frame: Any) -> None:
        # The job in hand finishes its transaction before the process exits; unsent messages go back.
        click.echo(f"signal {signum}: finishing the job in hand, then stopping", err=True)
        runner.shutdown(scheduler, app)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo("scheduler running; SIGTERM or Ctrl+C stops it", err=True)
    scheduler.start()


cli.add_command(institutes_group)


@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply every migration not yet applied (safe to run again)."""
    upgrade(db.engine)
    click.echo("database is at the latest schema")


@cli.command("check")
@click.option("--fix-twilio", is_flag=True, help="Point the number's Voice URL and status callback here.")
@with_appcontext
def check_command(fix_twilio: bool) -> None:
    """Pre-flight: is this installation wired right? One line per check; exit status 1 on any fail."""
    from ivr import preflight

    checks = preflight.run_checks(current_app._get_current_object(), fix_twilio=fix_twilio)  # type: ignore[attr-defined]
    for check in checks:
        click.echo(check.line())
    if preflight.failed(checks):
        sys.exit(1)


@cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Copy the database to PATH while calls go on (SQLite: a database file; PostgreSQL: pg_dump -Fc)."""
    from ivr import backup

    try:
        click.echo(backup.backup(_config().database_url, path))
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None


@cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Put a backup from PATH into the database. Stop the web and the scheduler first."""
    from ivr import backup

    try:
        click.echo(backup.restore(path, _config().database_url, force=force))
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None


@cli.group("demo")
def demo_group() -> None:
    """Demo data."""


@demo_group.command("seed")
@with_appcontext
def demo_seed() -> None:
    """Consultants for every field, a supervisor, an admin and a few tickets. Safe to run again."""
    with db.transaction() as session:
        logins = demo.seed(session, _config())
    click.echo("Demo logins (username / password):")
    for username, role, password in logins:
        click.echo(f"  {username:<16} {role:<11} {password}")


@cli.group("users")
def users_group() -> None:
    """Consultant, supervisor and admin accounts."""


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["consultant", "supervisor", "admin", "auditor"]), required=True)
@click.option("--name", "display_name", help="Display name (defaults to the username).")
@click.option("--fields", default="", help="Comma-separated field keys, e.g. it,bio.")
@click.option("--phone", help="The phone click-to-call rings, e.g. 010-1234-5678.")
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="Read the console password from standard input.")
@with_appcontext
def users_add(
    username: str,
    role: str,
    display_name: str | None,
    fields: str,
    phone: str | None,
    email: str | None,
    password_stdin: bool,
) -> None:
    """Add a user."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        with db.transaction() as session:
            user = accounts.add_user(
                session,
                username,
                role,
                display_name=display_name,
                fields=[f.strip() for f in fields.split(",") if f.strip()],
                known_fields=(*_config().routing.field_keys, "general"),
                phone=phone,
                email=email,
                password=password,
            )
            click.echo(f"added {user.role} {user.username} (fields: {', '.join(user.fields) or '-'})")
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None


@users_group.command("token")
@click.argument("username")
@click.option("--label", help="What the token is for.")
@with_appcontext
def users_token(username: str, label: str | None) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is stored)."""
    from tickets.models import User

    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        click.echo(accounts.issue_token(session, user, label))


@users_group.command("reset-two-step")
@click.argument("username")
@with_appcontext
def users_reset_two_step(username: str) -> None:
    """Turn off USERNAME's two-step sign-in and end their sessions (a lost phone and lost recovery codes;
    for the last admin, who has nobody to do it in the console). Written to the access log."""
    from tickets import access_log, two_step
    from tickets.models import User

    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        two_step.reset(session, user)
        access_log.record(
            session, actor=None, action=access_log.Action.CHANGE, subjects=[user.username],
            detail={"what": "two_step_reset", "user_id": user.id, "via": "cli"},
        )  # fmt: skip
        click.echo(f"reset the two-step sign-in of {user.username}; their sessions have ended")


@cli.group("tickets")
def tickets_group() -> None:
    """Look at tickets."""


@tickets_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--status", help="Only tickets with this status.")
@click.option("--limit", default=100, show_default=True)
@with_appcontext
def tickets_list(as_json: bool, status: str | None, limit: int) -> None:
    """Newest tickets first."""
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    if status:
        query = query.where(Ticket.status == status)
    tickets = db.session.scalars(query).all()
    if as_json:
        _print_json([ticket_json(t, detail=False) for t in tickets])
        return
    for t in tickets:
        assignee = t.assignee.username if t.assignee else "-"
        click.echo(
            f"{t.reference}  {t.status:<11} {t.field:<12} {t.support_type or '-':<12} {assignee:<14} "
            f"{mask_number(t.callback_number) or '-'}"
        )


@tickets_group.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def tickets_show(reference: str, as_json: bool) -> None:
    """One ticket with its attempts and history."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.reference == normalise_reference(reference)))
    if ticket is None:
        raise click.ClickException(f"no ticket {reference!r}")
    data = ticket_json(ticket, full_numbers=ticket.is_open)  # the numbers are for working an open ticket
    if as_json:
        _print_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key:>18}: {value}")


@cli.command("call")
@click.option("--url", help="A running server, e.g. http://127.0.0.1:5000 (default: this process).")
@click.option("--script", help="Answers without a person: field=2,support_type=1,callback=1,message=record.")
@click.option("--from", "from_number", default="+821012345678", show_default=True, help="The caller ID.")
@click.option("--recording-callback-first", is_flag=True, help="Recording callback before the action.")
@with_appcontext
def call_command(
    url: str | None, script: str | None, from_number: str, recording_callback_first: bool
) -> None:
    """Place a call without Twilio: follow the TwiML, sign each request, print what the caller hears.

    Answers: digits ("2", "01012345678#"), "say:바이오 분야요", "record", "record:45", "record:45:hangup",
    "silence", "hangup". Without --script you are asked at each question.
    """
    from ivr.call_console import place_call

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    place_call(app, url, script, from_number, recording_callback_first)


@cli.group("sla")
def sla_group() -> None:
    """SLA deadlines and escalations."""


@sla_group.command("sweep")
@click.option("--now", "now_text", help="Sweep as if it were this time (ISO 8601 with offset); default: now.")
@click.option("--dry-run", is_flag=True, help="List what would escalate; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--batch-size", default=500, show_default=True, hidden=True)
@with_appcontext
def sla_sweep(now_text: str | None, dry_run: bool, as_json: bool, batch_size: int) -> None:
    """Run one escalation sweep by hand (the scheduler runs it every minute)."""
    from scheduler.referral_followup import FollowUpSettings, follow_up_referrals
    from scheduler.sweep import AlertSettings, sweep

    now = _parse_now(now_text)
    swept = sweep(
        db.transaction, AlertSettings.from_config(_config()), now, batch_size=batch_size, dry_run=dry_run
    )
    # The referrals' reminders and alerts go with the escalations (a dry run leaves them be).
    followed = (
        [] if dry_run else follow_up_referrals(db.transaction, FollowUpSettings.from_config(_config()), now)
    )
    if as_json:
        _print_json(
            {
                "now": now.isoformat(),
                "dry_run": dry_run,
                "escalations": [s.to_json() for s in swept],
                "referral_follow_ups": [f.to_json() for f in followed],
            }
        )
        return
    verb = "would escalate" if dry_run else "escalated"
    for s in swept:
        kind = "warning" if s.level == 0 else f"level {s.level}"
        click.echo(f"{s.reference}  {kind:<8} due {s.due_at.isoformat()}  notifications: {s.notifications}")
    for f in followed:
        click.echo(f"{f.reference}  referral {f.referral_id} {f.kind}  due {f.due_at.isoformat()}")
    click.echo(f"{verb} {len(swept)} ticket(s) at {now.isoformat()}")


cli.add_command(audit_group)  # hotline audit verify|list (ivr.audit_cli)
cli.add_command(privacy_group)  # hotline privacy purge|erase (ivr.privacy_cli)


def _parse_now(text: str | None) -> Any:
    from datetime import datetime

    from tickets import clock

    if not text:
        return clock.now()
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint="--now") from None
    if now.tzinfo is None:
        raise click.BadParameter("give an offset, e.g. 2026-11-30T09:00:00+09:00", param_hint="--now")
    return now


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def main() -> None:
    logs.configure()  # LOG_FORMAT=json: a JSON object per line; else plain text
    # Validate the config before Flask's CLI machinery, so a broken file is a one-line message and exit 2.
    try:
        config = load_config()
    except ConfigError as error:
        if sys.argv[1:2] == ["check"]:  # the pre-flight reports it as its first failed check
            from ivr.preflight import FAIL, Check

            click.echo(Check(FAIL, "config", str(error)).line())
            sys.exit(1)
        click.echo(f"hotline: configuration error: {error}", err=True)
        sys.exit(2)
    cli.create_app = lambda: create_app(config)  # type: ignore[attr-defined]
    cli.main(prog_name="hotline")


if __name__ == "__main__":  # python -m ivr.cli, as the tests and a checkout without `pip install` run it
    main()
