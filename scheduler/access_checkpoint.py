"""The access log's nightly job: store the day's last hash as a checkpoint (mailed to the head of center
when e-mail is set up), then purge rows past `privacy.access_log_years` (after a checkpoint of their own).

Mailed away, a checkpoint is out of reach of anyone who can write to the database: rewriting a row of a
checkpointed day then no longer matches what the head of center holds.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.scheduler_config import NotificationConfig
from tickets import access_chain
from tickets.access_log import AccessLogCheckpoint
from tickets.labels import STAFF_SMS_PREFIX
from tickets.outbox import add_message_once

JOB_ID = "access_log_checkpoint"
RUN_AT = time(0, 10)  # local time: just after the day it closes


def nightly_checkpoint(
    session: Session, now: datetime, timezone: str, notifications: NotificationConfig
) -> AccessLogCheckpoint:
    """The checkpoint of the local day before `now` (one per day, however often this runs)."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    day = today - timedelta(days=1)
    point, new = access_chain.checkpoint(
        session, access_chain.NIGHTLY, day, datetime.combine(today, time(0), tzinfo=zone)
    )
    if new and notifications.email_enabled and notifications.head_email:
        text = (
            f"1379 접속기록 {day} 마지막 해시 (행 {point.entry_id}):\n{point.entry_hash}\n\n"
            "이 메일을 보관해 주세요. `hotline audit verify`가 이 값과 기록을 대조합니다."
        )
        add_message_once(
            session, key=f"access-log-checkpoint:{day}", channel="email", recipient=notifications.head_email,
            payload={"subject": f"{STAFF_SMS_PREFIX} 접속기록 체크포인트 {day}", "text": text}, now=now,
        )  # fmt: skip
    return point


def retention_start(now: datetime, timezone: str, years: int) -> datetime:
    """The local midnight `years` years before today: rows older than this are past retention."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    try:
        first_kept = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        first_kept = date(today.year - years, 3, 1)
    return datetime.combine(first_kept, time(0), tzinfo=ZoneInfo(timezone))


def purge_expired(session: Session, now: datetime, timezone: str, years: int) -> int:
    """Delete rows past retention (tickets.access_chain.purge writes the checkpoint first); how many went."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    return access_chain.purge(session, retention_start(now, timezone, years), today)
