"""The durable spool: webhooks the database could not take, kept on local disk until it can.

When a webhook's work fails (the database down, frozen or read-only), what Twilio posted would otherwise
exist only in a log. It is appended instead, as one JSON line, to this host's spool file and fsync'ed
before the caller hears the apology. The scheduler (and every process at start-up) replays the spool
through the webhooks' own code (ivr.webhooks.replay_spooled), which is idempotent by CallSid and turn.

Exactly once, whatever crashes: a replay first claims the spool by renaming it to `<name>.replaying`
(new webhooks then start a fresh spool), and notes each entry it replayed in `<name>.replaying.done`
(fsync'ed) before moving on. A replay that crashed is resumed from the entries not yet noted; an entry
replayed but not yet noted is replayed again, which the webhooks turn into nothing. Only one replay at
a time runs over a directory (a lock file). An entry that fails for a reason other than the database is
set aside in `<name>.failed` (kept, never dropped) so that it does not block the entries behind it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from tickets.logsafe import log_safe

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"
CLAIMED = ".replaying"
DONE = ".done"
FAILED = ".failed"
_LOCK = ".replay.lock"


@dataclass(frozen=True)
class SpooledWebhook:
    """One webhook as Twilio posted it, with what is needed to answer it as it would have been."""

    path: str  # e.g. /ivr/voice/field
    args: dict[str, str]  # the query string (turn, lang)
    form: dict[str, str]  # the Twilio form fields as posted
    base_url: str  # the public origin its TwiML's action URLs are built on
    at: str  # ISO time it arrived: the call's times are its times
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def from_json(cls, line: str) -> SpooledWebhook:
        data = json.loads(line)
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


class Spool:
    """The spool files of one directory; this host appends to its own."""

    def __init__(self, directory: Path, host: str | None = None) -> None:
        self.directory = directory
        self.path = directory / f"{host or socket.gethostname()}{SUFFIX}"

    def append(self, webhook: SpooledWebhook) -> None:
        """Add `webhook`, on disk (fsync'ed) when this returns; several processes may append at once."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = (json.dumps(asdict(webhook), ensure_ascii=False) + "\n").encode()
        while True:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if _same_file(fd, self.path):  # not claimed by a replay between open and lock
                    os.write(fd, line)
                    os.fsync(fd)
                    break
            finally:
                os.close(fd)  # closing releases the lock
        _sync_directory(self.directory)

    def replay(self, handle: Callable[[SpooledWebhook], object]) -> int:
        """Run every spooled webhook through `handle`, oldest first; returns how many were replayed.

        A database error stops the replay of that file (the entries wait for the next run, in order);
        any other error sets the entry aside in the .failed file.
        """
        if not self.directory.is_dir():
            return 0
        replayed = 0
        with _exclusive(self.directory / _LOCK) as locked:
            if not locked:
                return 0  # another process is replaying this directory right now
            claimed = {path.name.removesuffix(CLAIMED) for path in self.directory.glob(f"*{SUFFIX}{CLAIMED}")}
            spooled = {path.name for path in self.directory.glob(f"*{SUFFIX}")}
            for name in sorted(claimed | spooled):  # a crashed replay's claim, without its spool now
                replayed += _replay_file(_claim(self.directory / name), handle)
        return replayed

    def pending(self) -> list[SpooledWebhook]:
        """Every entry not yet replayed (for tests and the CLI)."""
        entries = []
        for spool in sorted(self.directory.glob(f"*{SUFFIX}*")):
            if spool.suffix in (DONE, FAILED):
                continue
            done = _done_ids(spool)
            entries += [entry for entry in _read(spool) if entry.id not in done]
        return entries


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _sync_directory(directory: Path) -> None:
    """A new or renamed file survives a crash only once its directory is synced too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[bool]:
    fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _claim(spool: Path) -> Path:
    """The file to replay: one a crashed replay left claimed, else this spool, renamed under its lock."""
    claimed = spool.with_name(spool.name + CLAIMED)
    if claimed.exists():
        return claimed  # finish it first; the spool is claimed on a later run
    fd = os.open(spool, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # no append is half written
        _done_file(claimed).unlink(missing_ok=True)  # left by a replay that ended between its unlinks
        spool.rename(claimed)
    finally:
        os.close(fd)
    _sync_directory(spool.parent)
    return claimed


def _done_file(claimed: Path) -> Path:
    return claimed.with_name(claimed.name + DONE)


def _done_ids(path: Path) -> set[str]:
    done = _done_file(path)
    return set(done.read_text(encoding="utf-8").split()) if done.exists() else set()


def _read(path: Path) -> list[SpooledWebhook]:
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            entries.append(SpooledWebhook.from_json(line))
        except (ValueError, KeyError, TypeError):  # a line cut short by a crash mid-append
            log.error("%s:%d: unreadable spool line kept in place: %s", path, number, log_safe(line))
    return entries


def _append_synced(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def _replay_file(claimed: Path, handle: Callable[[SpooledWebhook], object]) -> int:
    if not claimed.exists():
        return 0
    done = _done_ids(claimed)
    replayed = 0
    for entry in _read(claimed):
        if entry.id in done:
            continue
        try:
            handle(entry)
        except DBAPIError as error:
            log.warning("spool %s: the database still fails (%s); replaying later", claimed.name, error.orig)
            return replayed
        except Exception:
            log.exception("spool %s: entry %s for %s failed; set aside", claimed.name, entry.id, entry.path)
            _append_synced(claimed.with_name(claimed.name + FAILED), json.dumps(asdict(entry)) + "\n")
        _append_synced(_done_file(claimed), entry.id + "\n")
        replayed += 1
    claimed.unlink()
    _done_file(claimed).unlink(missing_ok=True)
    return replayed
