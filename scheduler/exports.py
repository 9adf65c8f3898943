"""CSV exports for spreadsheets: UTF-8 with a byte-order mark, so Excel opens the Korean text correctly.

The ticket export streams rows from a server-side cursor in batches; the monthly report is the aggregate
of `scheduler.reports.monthly`, one line per month.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from scheduler.labels import Labels
from scheduler.reports import FINISHED_STATUSES, MonthFigures, Period
from tickets.models import Ticket, User

BOM = "\ufeff"
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
)


def _line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def ticket_rows(session: Session, period: Period, labels: Labels) -> Iterator[str]:
    """The tickets received in the period, oldest first, as CSV lines (the first one starts with the BOM)."""
    assignee = aliased(User)
    query = (
        select(
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
        )
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(Ticket.created_at >= period.start, Ticket.created_at < period.end)
        .order_by(Ticket.created_at, Ticket.id)
        .execution_options(yield_per=BATCH)
    )
    if period.field:
        query = query.where(Ticket.field == period.field)
    yield BOM + _line(TICKET_HEADER)
    for row in session.execute(query):
        finished_at: datetime | None = row.resolved_at or row.closed_at
        on_time = ""
        if row.status in FINISHED_STATUSES and finished_at and row.sla_due_at:
            on_time = "예" if finished_at <= row.sla_due_at else "아니오"
        yield _line(
            (
                row.reference,
                labels.local(row.created_at),
                labels.field(row.field),
                labels.support_type(row.support_type),
                labels.status(row.status),
                row.display_name or "",
                row.callback_number or "",
                labels.local(row.sla_due_at),
                labels.local(row.first_attempt_at),
                labels.local(finished_at),
                on_time,
                row.escalation_level,
                "예" if row.incomplete else "",
            )
        )


def monthly_rows(months: list[MonthFigures], labels: Labels) -> Iterator[str]:
    types = labels.support_type_keys
    yield BOM + _line(
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
        yield _line(
            (
                month.month,
                month.received,
                *(month.by_support_type.get(key, 0) for key in types),
                month.by_support_type.get(None, 0),
                month.finished,
                month.met,
                month.breached,
                "" if compliance is None else f"{compliance:.1f}",
            )
        )
