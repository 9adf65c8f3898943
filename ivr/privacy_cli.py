"""`hotline privacy`: retention on demand and erasure on request.

    hotline privacy purge [--dry-run] [--json]
    hotline privacy erase --number NUMBER [--reference REF] --reason TEXT --by ADMIN [--yes]

`purge` runs (or, with --dry-run, lists) what the daily retention job would do now (scheduler.retention).
`erase` anonymises one person's data (tickets.erasure); it asks for confirmation unless --yes, and the
access log names the admin given by --by.
"""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import retention
from tickets import clock
from tickets.db import db
from tickets.erasure import ErasureError, erase_number, find_subjects
from tickets.masking import mask_number
from tickets.models import Role, User


@click.group("privacy")
def privacy_group() -> None:
    """Retention and erasure of callers' data."""


@privacy_group.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would go; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def privacy_purge(dry_run: bool, as_json: bool) -> None:
    """Delete what is past `privacy.retention` now, as the daily job does."""
    config = current_app.config["HOTLINE"]
    if dry_run:
        with db.reading() as session:
            plan = retention.due(session, clock.now(), config.privacy.retention, config.timezone)
    else:
        plan = retention.purge(db.transaction, clock.now(), config.privacy.retention, config.timezone)
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, **plan.to_json()}, ensure_ascii=False, indent=2))
        return
    verb = "would" if dry_run else "did"
    click.echo(f"recordings ({verb} delete at Twilio): {_listed(plan.recordings)}")
    click.echo(f"numbers ({verb} mask): {_listed(plan.masked)}")
    click.echo(f"incomplete tickets ({verb} anonymise): {_listed(plan.anonymised)}")
    click.echo(f"missed calls ({verb} anonymise): {_listed(plan.missed_calls)}")
    click.echo(f"unproved web requests ({verb} delete): {plan.web_requests}")
    click.echo(f"login throttle rows past their window ({verb} delete): {plan.throttle_rows}")


def _listed(items: list[str] | dict[str, int]) -> str:
    if isinstance(items, dict):
        return ", ".join(f"{ref} ({n})" for ref, n in items.items()) or "none"
    return ", ".join(items) or "none"


@privacy_group.command("erase")
@click.option("--number", required=True, help="The person's phone number, in any usual form.")
@click.option("--reference", help="Only this ticket of theirs.")
@click.option("--reason", required=True, help="Why: the request it answers (kept in the access log).")
@click.option("--by", "admin", required=True, help="The admin carrying it out (named in the access log).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def privacy_erase(number: str, reference: str | None, reason: str, admin: str, yes: bool) -> None:
    """Anonymise one person's data everywhere; their tickets stay, emptied, for the statistics."""
    try:
        with db.transaction() as session:
            actor = _admin(session, admin)
            e164, tickets, calls = find_subjects(session, number, reference)
            click.echo(
                f"{mask_number(e164)}: {len(tickets)} ticket(s) "
                f"({', '.join(t.reference for t in tickets) or 'none'}), {len(calls)} missed call(s)"
                + ("" if reference else ", and every other place the number was written")
            )
            if not yes and not click.confirm("Erase this person's data for good?", default=False):
                raise click.Abort()
            report = erase_number(
                session, number, reason=reason, actor=actor, now=clock.now(), reference=reference
            )
    except ErasureError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"erased {report.number}: {len(report.tickets)} ticket(s), {report.calls} missed call(s), "
        f"{report.recordings} recording(s) queued for deletion at Twilio, {report.cells} other cell(s)"
    )


def _admin(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.role != Role.ADMIN or not user.active:
        raise ErasureError(f"{username!r} is not an active admin")
    return user
