"""Each app owns its database: two apps in one process, on two databases, keep to their own."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask

from ivr.app import create_app
from ivr.cli import cli
from tests.conftest import _migrate, test_config
from tickets import clock
from tickets.db import db
from tickets.intake import open_ticket


def _file_ticket(app: Flask, field: str) -> None:
    """A company's request in `field`, filed and committed through `app`."""
    with app.app_context(), db.transaction() as session:
        open_ticket(
            session,
            now=clock.now(),
            field=field,
            support_type="advice",
            language="ko",
            caller_number="+821012345678",
            callback_number="+821012345678",
        )


def _listed_fields(app: Flask) -> list[str]:
    """The fields of the tickets `hotline tickets list --json` shows, run against `app`."""
    result = app.test_cli_runner().invoke(cli, ["tickets", "list", "--json"])
    assert result.exit_code == 0, result.output
    return sorted(ticket["field"] for ticket in json.loads(result.output))


def _stored_fields(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as connection:
        return sorted(field for (field,) in connection.execute("SELECT field FROM tickets"))


def test_two_apps_in_one_process_each_keep_to_their_own_database(tmp_path: Path) -> None:
    first_file, second_file = tmp_path / "first.sqlite3", tmp_path / "second.sqlite3"
    for path in (first_file, second_file):
        _migrate(f"sqlite:///{path}")
    first = create_app(test_config(f"sqlite:///{first_file}"))
    _file_ticket(first, "it")
    second = create_app(test_config(f"sqlite:///{second_file}"))
    try:
        _file_ticket(second, "bio")
        _file_ticket(first, "energy")  # the first app, after the second was made, still writes to its own

        assert _listed_fields(first) == ["energy", "it"]
        assert _listed_fields(second) == ["bio"]
        assert _stored_fields(first_file) == ["energy", "it"]
        assert _stored_fields(second_file) == ["bio"]
    finally:
        db.of(first).engine.dispose()
        db.of(second).engine.dispose()


def test_the_database_outside_an_app_is_an_error_not_some_other_apps(tmp_path: Path) -> None:
    app = create_app(test_config(f"sqlite:///{tmp_path / 'hotline.sqlite3'}"))
    try:
        with pytest.raises(RuntimeError, match="no app context"):
            db.session()
    finally:
        db.of(app).engine.dispose()
