"""CSV exports for spreadsheets: UTF-8 with a byte-order mark, so Excel opens the Korean text correctly.

The ticket export reads its rows in batches, each in a short read transaction of its own, so a slow or
abandoned download holds no transaction and no connection between batches; the monthly report is the
aggregate of `supervisor.reports.monthly`, one line per month.

Every cell is written as a spreadsheet should read it (`tickets.spreadsheet`): text that would run as a
formula is neutralised, references and other digit strings stay the text they are, counts stay numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select, tuple_
from sqlalchemy.orm import Session, aliased

from supervisor.reports import MonthFigures, Period, finished_at
from tickets.labels import Labels
from tickets.masking import mask_number
from tickets.models import Ticket, User
from tickets.spreadsheet import BOM, line

BATCH = 1000

TICKET_HEADER = (
    "접수번호",
    "접수일시",
    "분야",
    "지원유형",
    "상태",
    "담당자",
    "회신번호",
    "처리기한",
    "첫 회신",
    "완료일시",
    "기한 준수",
    "경보 단계",
    "통화 미완료",
    "처리 요약",
    "회사명",
)

ReadingSession = Callable[[], AbstractContextManager[Session]]


def _phone(e164: str | None) -> str:
    # Masked as 010-****-5678: an export leaves the system, and a spreadsheet needs no number to count.
    # Korean form, so no leading + that a spreadsheet would take for a formula.
    return mask_number(e164)


def ticket_subjects(reading: ReadingSession, period: Period, until: datetime) -> list[str]:
    """Whose data the ticket export of `period` holds: references and masked numbers, for the access log.

    `until` bounds it as it bounds `ticket_rows`, so a ticket received meanwhile is in neither.
    """
    query = select(Ticket.reference, Ticket.callback_number).where(
        Ticket.created_at >= period.start, Ticket.created_at < period.end, Ticket.created_at <= until
    )
    if period.field:
        query = query.where(Ticket.field == period.field)
    with reading() as session:
        rows = session.execute(query).all()
    return [row.reference for row in rows] + [
        mask_number(row.callback_number) for row in rows if row.callback_number
    ]


def _ticket_query(period: Period, until: datetime | None = None) -> Select[*tuple[Any, ...]]:
    assignee = aliased(User)
    query = (
        select(
            Ticket.id,
            Ticket.reference,
            Ticket.created_at,
            Ticket.field,
            Ticket.support_type,
            Ticket.status,
            assignee.display_name,
            Ticket.callback_number,
            Ticket.sla_due_at,
            Ticket.first_attempt_at,
            Ticket.resolved_at,
            Ticket.closed_at,
            Ticket.escalation_level,
            Ticket.incomplete,
            Ticket.resolution_summary,
            Ticket.company,
        )
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(Ticket.created_at >= period.start, Ticket.created_at < period.end)
        .order_by(Ticket.created_at, Ticket.id)
        .limit(BATCH)
    )
    if period.field:
        query = query.where(Ticket.field == period.field)
    if until is not None:
        query = query.where(Ticket.created_at <= until)
    return query


def ticket_rows(
    reading: ReadingSession, period: Period, labels: Labels, until: datetime | None = None
) -> Iterator[str]:
    """The tickets received in the period (and before `until`), oldest first, as CSV lines (the first one
    starts with the BOM).

    `reading` opens a read-only session (`db.reading`); each batch is read in one and closed before its
    lines are handed out, and the next batch continues after the last (created_at, id) seen.
    """
    yield BOM + line(TICKET_HEADER)
    query = _ticket_query(period, until)
    last_seen: tuple[datetime, int] | None = None
    while True:
        batch_query = query
        if last_seen is not None:
            batch_query = query.where(tuple_(Ticket.created_at, Ticket.id) > tuple_(*last_seen))
        with reading() as session:
            batch = session.execute(batch_query).all()
        for row in batch:
            yield _ticket_line(row, labels)
        if len(batch) < BATCH:
            return
        last_seen = (batch[-1].created_at, batch[-1].id)


def _ticket_line(row: Row[Any], labels: Labels) -> str:
    finished = finished_at(row.status, row.resolved_at, row.closed_at)
    on_time = ""
    if finished and row.sla_due_at:
        on_time = "예" if finished <= row.sla_due_at else "아니오"
    return line(
        (
            row.reference,
            labels.local(row.created_at),
            labels.field(row.field),
            labels.support_type(row.support_type),
            labels.status(row.status),
            row.display_name or "",
            _phone(row.callback_number),
            labels.local(row.sla_due_at),
            labels.local(row.first_attempt_at),
            labels.local(finished),
            on_time,
            # The on-screen name of the level ("기한 초과", "2단계 상향"); empty before any breach.
            labels.level(row.escalation_level) if row.escalation_level else "",
            "예" if row.incomplete else "",
            row.resolution_summary or "",
            row.company or "",
        )
    )


def monthly_rows(months: list[MonthFigures], labels: Labels) -> Iterator[str]:
    types = labels.support_type_keys
    yield BOM + line(
        (
            "월",
            "접수",
            *(labels.support_type(key) for key in types),
            "지원유형 미선택",
            "완료",
            "기한 내 완료",
            "기한 초과",
            "기한 준수율(%)",
        )
    )
    for month in months:
        compliance = month.compliance
        yield line(
            (
                month.month,
                month.received,
                *(month.by_support_type.get(key, 0) for key in types),
                month.by_support_type.get(None, 0),
                month.finished,
                month.met,
                month.breached,
                "" if compliance is None else round(compliance, 1),  # a number, not text to a spreadsheet
            )
        )
