"""`hotline backup PATH` and `hotline restore PATH`: a consistent copy of the database, made online.

- SQLite: the online backup API copies one snapshot while webhooks keep writing (WAL lets them); the copy
  is itself a SQLite database.
- PostgreSQL: `pg_dump --format=custom`, which reads everything in one snapshot; `pg_restore` puts it back
  in a single transaction, so a failed restore changes nothing. Both tools are taken from the PostgreSQL
  installation of the server's major version (an older pg_dump refuses a newer server; a newer one works,
  and is used, with a note, when the matching one is not installed).

A restore replaces what is there, so it refuses a database holding any row unless forced. Stop the web and
the scheduler before restoring: they would keep writing into the database being replaced.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from psycopg.conninfo import make_conninfo
from sqlalchemy import URL, Engine, inspect, literal, make_url, select, table, text

from tickets.db import make_engine

POSTGRES_INSTALLS = "/usr/lib/postgresql/*/bin"  # Debian and Ubuntu keep each major version here
SQLITE_MAGIC = b"SQLite format 3\0"
PG_DUMP_MAGIC = b"PGDMP"  # pg_dump's custom format
ALEMBIC_TABLE = "alembic_version"
# Bookkeeping, not data, so that a migrated but unused database counts as empty: the schema's version, and
# the access log's chain head, which the migration seeds (the log's own rows are in access_log).
BOOKKEEPING_TABLES = (ALEMBIC_TABLE, "access_log_head")
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


class BackupError(Exception):
    """Why a backup or restore did not happen; safe to print."""


@dataclass(frozen=True)
class PostgresTool:
    path: Path
    note: str = ""  # why it is not the server's own version, when it is not


def backup(database_url: str, path: Path) -> str:
    """Copy the database to `path` (a new file) and say what was done."""
    if path.exists():
        raise BackupError(f"{path} exists already; a backup never overwrites one")
    url = make_url(database_url)
    partial = path.with_name(path.name + ".partial")  # a crash mid-copy leaves no file that looks whole
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            _copy_sqlite(_sqlite_file(url), partial)
            with sqlite3.connect(partial) as copy:
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            note = ""
        elif url.get_backend_name() == "postgresql":
            tool = postgres_tool("pg_dump", _server_major(database_url))
            _run([str(tool.path), "--format=custom", f"--file={partial}", _dbname(url)], url)
            note = tool.note
        else:
            raise BackupError(f"cannot back up a {url.get_backend_name()} database")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    where = url.render_as_string(hide_password=True)
    return "\n".join(filter(None, [note, f"backed up {where} to {path} ({path.stat().st_size} bytes)"]))


def restore(path: Path, database_url: str, *, force: bool = False) -> str:
    """Replace the database's contents with the backup at `path`; refuse one holding data unless `force`."""
    url = make_url(database_url)
    where = url.render_as_string(hide_password=True)
    kind = backup_kind(path)
    if kind != url.get_backend_name():
        raise BackupError(f"{path} is a {kind} backup; {where} is {url.get_backend_name()}")
    engine = make_engine(database_url)
    try:
        holding = tables_holding_rows(engine)
    finally:
        engine.dispose()
    if holding and not force:
        shown = ", ".join(holding[:4]) + (", …" if len(holding) > 4 else "")
        raise BackupError(
            f"{where} holds data ({shown}); a restore replaces all of it: add --force if that is meant"
        )
    note = ""
    if kind == "sqlite":
        _copy_sqlite(path, _sqlite_file(url))
    else:
        tool = postgres_tool("pg_restore", _server_major(database_url))
        note = tool.note
        # --clean --if-exists: the dump's own objects are dropped first (a forced restore over data);
        # --single-transaction: all or nothing. Owners and grants are the target's, not the source's.
        command = [str(tool.path), "--clean", "--if-exists", "--single-transaction", "--exit-on-error"]
        command += ["--no-owner", "--no-privileges", f"--dbname={_dbname(url)}", str(path)]
        _run(command, url)
    revision = _revision(database_url)
    done = f"restored {path} into {where}; schema at revision {revision} (`hotline db upgrade` brings it up)"
    return "\n".join(filter(None, [note, done]))


def backup_kind(path: Path) -> str:
    with path.open("rb") as file:
        start = file.read(len(SQLITE_MAGIC))
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither a SQLite database nor a pg_dump archive")


def tables_holding_rows(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        names = [n for n in inspect(connection).get_table_names() if n not in BOOKKEEPING_TABLES]
        return [
            name
            for name in sorted(names)
            if connection.execute(select(literal(1)).select_from(table(name)).limit(1)).first()
        ]


def postgres_tool(name: str, server_major: int, installed: dict[int, Path] | None = None) -> PostgresTool:
    """The `name` (pg_dump, pg_restore) of the server's major version, else the oldest newer one."""
    installed = _installed_tools(name) if installed is None else installed
    if server_major in installed:
        return PostgresTool(installed[server_major])
    newer = sorted(major for major in installed if major > server_major)
    if newer:
        note = f"note: no {name} {server_major} installed; using {name} {newer[0]}, which reads older servers"
        return PostgresTool(installed[newer[0]], note)
    found = ", ".join(str(major) for major in sorted(installed)) or "none"
    raise BackupError(
        f"the server is PostgreSQL {server_major} and needs {name} {server_major} or newer (found: {found}); "
        f"install postgresql-client-{server_major}"
    )


def _installed_tools(name: str) -> dict[int, Path]:
    candidates = sorted(Path("/").glob(f"{POSTGRES_INSTALLS.lstrip('/')}/{name}"))
    on_path = shutil.which(name)  # on Debian a wrapper that picks a version; ask it which
    found: dict[int, Path] = {}
    for candidate in [*candidates, *([Path(on_path)] if on_path else [])]:
        major = _tool_major(candidate)
        if major is not None:
            found.setdefault(major, candidate)
    return found


def _tool_major(path: Path) -> int | None:
    try:
        output = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(output)
    return int(match[1]) if match else None


def _server_major(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()


def _revision(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            if ALEMBIC_TABLE not in inspect(connection).get_table_names():
                return "none"
            return ", ".join(connection.scalars(text(f"SELECT version_num FROM {ALEMBIC_TABLE}"))) or "none"
    finally:
        engine.dispose()


def _dbname(url: URL) -> str:
    """libpq's connection string, without the password (argv is visible to every user of the host)."""
    params = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    given = {key: str(value) for key, value in params.items() if value is not None}
    extra = {key: str(value) for key, value in url.query.items()}  # e.g. sslmode=require
    return make_conninfo("", **given, **extra)


def _run(command: list[str], url: URL) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[:2000]}")


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"{url} is not a SQLite file this command can copy")
    return Path(url.database)


def _copy_sqlite(source_file: Path, target_file: Path) -> None:
    """SQLite's online backup in one step: one read snapshot of the source, whole, into the target."""
    if not source_file.exists():
        raise BackupError(f"{source_file} does not exist")
    target_file.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_file, timeout=30)
    try:
        target = sqlite3.connect(target_file, timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
