"""`hotline audit`: verify the access log's hash chain and list its rows.

    hotline audit verify [--from DATE]      exit 1 naming the first broken row
    hotline audit list [--subject REF|NUMBER] [--user NAME] [--action ACTION] [--since DATE] [--json]

Dates are local days (config `hotline.timezone`) and start at their midnight.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from tickets import access_chain, access_search
from tickets.access_log import Action
from tickets.db import db


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(current_app.config["HOTLINE"].timezone))


@click.group("audit")
def audit_group() -> None:
    """The access log (접속기록): verify its chain, list its rows."""


@audit_group.command("verify")
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), help="Check from this day on.")
@with_appcontext
def audit_verify(since: datetime | None) -> None:
    """Recompute the hash chain; exit 1 naming the first broken row."""
    with db.reading() as session:
        verdict = access_chain.verify(session, local_midnight(since.date()) if since else None)
    if not verdict.intact:
        click.echo(f"access log broken at row {verdict.broken_id}: {verdict.problem}", err=True)
        click.echo(f"({verdict.rows} row(s) before it are intact)", err=True)
        sys.exit(1)
    if verdict.last_id is None:
        click.echo("access log intact: no rows to check")
        return
    click.echo(
        f"access log intact: {verdict.rows} row(s), last row {verdict.last_id}, hash {verdict.last_hash}"
    )


@audit_group.command("list")
@click.option("--subject", help="A ticket reference or a phone number.")
@click.option("--user", help="A username (or 'system').")
@click.option("--action", type=click.Choice([a.value for a in Action]))
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="From this day on.")
@click.option("--limit", default=access_search.MAX_ROWS, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def audit_list(
    subject: str | None,
    user: str | None,
    action: str | None,
    since: datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """The matching rows, the newest first."""
    filters = access_search.Filters(
        subject=subject, user=user, action=action, since=local_midnight(since.date()) if since else None
    )
    with db.reading() as session:
        rows = [access_search.entry_json(e) for e in access_search.search(session, filters, limit)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        reason = f"  reason: {row['reason']}" if row["reason"] else ""
        click.echo(
            f"{row['id']:>7}  {row['at']}  {row['user']:<14} {row['action']:<8} {row['address'] or '-':<15} "
            f"{', '.join(row['subjects'][:5])}{' …' if len(row['subjects']) > 5 else ''}{reason}"
        )
