"""The nightly checkpoint of the access log: stored once a day, mailed to the head of center, and a row
rewritten afterwards no longer matches it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import select, text

from scheduler.access_checkpoint import nightly_checkpoint, purge_expired
from scheduler.scheduler_config import NotificationConfig
from tickets import access_chain, access_log
from tickets.access_log import AccessLogCheckpoint, AccessLogEntry
from tickets.models import OutboxMessage

SEOUL_0010 = datetime(2026, 11, 27, 15, 10, tzinfo=UTC)  # 00:10 on 28 November in Seoul


def test_one_checkpoint_a_night_mailed_to_the_head(session, clock) -> None:
    clock.move_to(datetime(2026, 11, 27, 5, 0, tzinfo=UTC))
    entry = access_log.record(session, actor=None, action="view", subjects=["0000-0001"])
    clock.move_to(SEOUL_0010)
    late = access_log.record(session, actor=None, action="view", subjects=["0000-0002"])  # after midnight
    mail = dataclasses.replace(NotificationConfig(), email_enabled=True, head_email="head@example.org")
    point = nightly_checkpoint(session, SEOUL_0010, "Asia/Seoul", mail)
    again = nightly_checkpoint(session, SEOUL_0010, "Asia/Seoul", mail)  # a second scheduler, a rerun
    assert point.id == again.id and str(point.day) == "2026-11-27"
    assert (point.entry_id, point.entry_hash) == (entry.id, entry.hash) != (late.id, late.hash)
    (message,) = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")).all()
    assert message.recipient == "head@example.org" and entry.hash in message.payload["text"]


def test_a_rewritten_row_and_its_rehashed_chain_still_disagree_with_the_checkpoint(session, clock) -> None:
    clock.move_to(datetime(2026, 11, 27, 5, 0, tzinfo=UTC))
    entry = access_log.record(session, actor=None, action="view", subjects=["0000-0001"])
    nightly_checkpoint(session, SEOUL_0010, "Asia/Seoul", NotificationConfig())
    # An attacker rewrites the row and recomputes its hash and the head, with the trigger off.
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only"))
    forged = access_log.chain_hash(entry.prev_hash, {**entry.content(), "actor_name": "nobody"})
    session.execute(
        text("UPDATE access_log SET actor_name = 'nobody', hash = :h WHERE id = :id"),
        {"h": forged, "id": entry.id},
    )
    session.execute(text("UPDATE access_log_head SET last_hash = :h"), {"h": forged})
    if postgres:
        session.execute(text("ALTER TABLE access_log ENABLE TRIGGER access_log_append_only"))
    session.expire_all()
    verdict = access_chain.verify(session)
    assert verdict.broken_id == entry.id and "checkpoint" in (verdict.problem or "")


def test_rows_past_retention_are_purged_after_a_checkpoint(session, clock) -> None:
    clock.move_to(datetime(2024, 6, 1, 3, 0, tzinfo=UTC))
    old = access_log.record(session, actor=None, action="view", subjects=["0000-0001"])
    old_id, old_hash = old.id, old.hash
    clock.move_to(SEOUL_0010)
    access_log.record(session, actor=None, action="view", subjects=["0000-0002"])
    assert purge_expired(session, SEOUL_0010, "Asia/Seoul", years=2) == old_id
    session.expire_all()
    assert session.get(AccessLogEntry, old_id) is None
    point = session.scalars(select(AccessLogCheckpoint).where(AccessLogCheckpoint.kind == "purge")).one()
    assert (point.entry_id, point.entry_hash) == (old_id, old_hash)
    assert access_chain.verify(session).intact
