"""`hotline institutes import FILE.csv [--dry-run]` and `hotline institutes list [--json]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tickets import institutes
from tickets.db import db


@click.group("institutes")
def institutes_group() -> None:
    """Partner institutes that companies are referred to."""


@institutes_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def import_command(file: Path, dry_run: bool, as_json: bool) -> None:
    """Add or update institutes from a CSV as Excel writes it (UTF-8 or CP949), one row per institute.

    Columns: key,name_ko,name_en,kind,regions,fields,support_types,keywords,contacts,active. Idempotent on
    the key; every row is reported as added, changed, unchanged or refused (with the reason). Exits 1 when
    a row was refused (the other rows are still saved, unless --dry-run)."""
    routing = current_app.config["HOTLINE"].routing
    session = db.session()
    try:
        report = institutes.import_csv(
            session,
            file.read_bytes(),
            field_keys=routing.field_keys,
            support_type_keys=routing.support_type_keys,
        )
    except institutes.InvalidInstitute as error:
        session.rollback()
        raise click.ClickException(f"{file}: {error}") from None
    if dry_run:
        session.rollback()
    else:
        session.commit()
    if as_json:
        click.echo(
            json.dumps({"dry_run": dry_run, "rows": [r.to_json() for r in report.rows]}, ensure_ascii=False)
        )
    else:
        for row in report.rows:
            detail = f": {row.detail}" if row.detail else ""
            click.echo(f"line {row.line}  {row.key or '-'}  {row.outcome}{detail}")
        totals = ", ".join(
            f"{report.count(outcome)} {outcome}" for outcome in ("added", "changed", "unchanged", "refused")
        )
        click.echo(f"{'dry run, nothing saved: ' if dry_run else ''}{totals}")
    if report.count("refused"):
        sys.exit(1)


@institutes_group.command("list")
@click.option("--field", help="Only institutes serving this field key.")
@click.option("--support-type", help="Only institutes offering this support type key.")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"institutes": [...]}.')
@with_appcontext
def list_command(field: str | None, support_type: str | None, as_json: bool) -> None:
    """Institutes by key, inactive ones included (marked)."""
    found = institutes.list_institutes(db.session(), field=field, support_type=support_type)
    if as_json:
        data = {"institutes": [institutes.institute_json(i) for i in found]}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for i in found:
        state = "" if i.active else "  (inactive)"
        click.echo(f"{i.key:<20} {i.kind:<19} {i.name_ko}  [{','.join(i.fields)}]{state}")
