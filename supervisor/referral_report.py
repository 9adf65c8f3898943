"""The referral figures the center reports, over a period of receipt and optionally one field, counted live:
tickets referred, the time from the call to an accepted referral (median, 90th percentile), the share
connected within the promise (`sla.resolve_within_days`, 3 calendar days from the call), acceptance and
decline rates per institute, and referrals still waiting for an answer or an outcome.

A ticket belongs to the period in which it was received, as in supervisor.reports. Connected = an institute
accepted one of its referrals (its first acceptance counts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervisor.reports import Durations, Period, percent
from tickets.models import Institute, Referral, ReferralStatus, Ticket
from tickets.spreadsheet import BOM, line

ACCEPTED = (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED)


@dataclass
class InstituteFigures:
    key: str
    name: str
    sent: int = 0
    accepted: int = 0  # accepted or completed
    declined: int = 0
    expired: int = 0

    @property
    def acceptance(self) -> float | None:
        return percent(self.accepted, self.sent)

    @property
    def decline_rate(self) -> float | None:
        return percent(self.declined, self.sent)


@dataclass
class ReferralFigures:
    period: Period
    promise_days: int
    tickets_referred: int = 0
    connected: int = 0  # tickets with an accepted referral
    connected_in_time: int = 0  # … accepted within the promise
    to_acceptance: Durations = Durations(0, None, None)
    waiting_for_answer: int = 0
    waiting_for_outcome: int = 0
    institutes: list[InstituteFigures] = field(default_factory=list)

    @property
    def share_in_time(self) -> float | None:
        """Of the tickets referred, the share an institute accepted within the promise."""
        return percent(self.connected_in_time, self.tickets_referred)


def referral_figures(session: Session, period: Period, promise_days: int = 3) -> ReferralFigures:
    query = (
        select(Referral.ticket_id, Ticket.created_at, Referral.status, Referral.answered_at, Institute.key,
               Institute.name_ko)
        .join(Ticket, Ticket.id == Referral.ticket_id)
        .join(Institute, Institute.id == Referral.institute_id)
        .where(Ticket.created_at >= period.start, Ticket.created_at < period.end)
    )  # fmt: skip
    if period.field:
        query = query.where(Ticket.field == period.field)
    figures = ReferralFigures(period, promise_days)
    first_acceptance: dict[int, tuple[datetime, datetime]] = {}
    referred: set[int] = set()
    by_institute: dict[str, InstituteFigures] = {}
    for ticket_id, created_at, status, answered_at, key, name in session.execute(query):
        referred.add(ticket_id)
        row = by_institute.setdefault(key, InstituteFigures(key, name))
        row.sent += 1
        if status in ACCEPTED and answered_at is not None:
            row.accepted += 1
            earliest = first_acceptance.get(ticket_id)
            if earliest is None or answered_at < earliest[1]:
                first_acceptance[ticket_id] = (created_at, answered_at)
        elif status == ReferralStatus.DECLINED:
            row.declined += 1
        elif status == ReferralStatus.EXPIRED:
            row.expired += 1
        if status == ReferralStatus.SENT:
            figures.waiting_for_answer += 1
        elif status == ReferralStatus.ACCEPTED:
            figures.waiting_for_outcome += 1
    figures.tickets_referred = len(referred)
    figures.connected = len(first_acceptance)
    promise = timedelta(days=promise_days)
    figures.connected_in_time = sum(1 for c, a in first_acceptance.values() if a - c <= promise)
    figures.to_acceptance = Durations.of([(a - c).total_seconds() for c, a in first_acceptance.values()])
    figures.institutes = sorted(by_institute.values(), key=lambda r: (-r.sent, r.key))
    return figures


def csv_lines(figures: ReferralFigures) -> Iterator[str]:
    """The figures as a spreadsheet: the summary, then one line per institute (UTF-8 with BOM)."""
    p = figures.period
    yield BOM + line(["기간", f"{p.first}~{p.last}", "분야", p.field or "전체"])
    yield line(["연계 접수 건수", figures.tickets_referred])
    yield line(["연계 성사 건수", figures.connected])
    yield line([f"{figures.promise_days}일 내 연계 비율(%)", _blank(figures.share_in_time)])
    yield line(["접수→수락 중앙값(시간)", _hours(figures.to_acceptance.median)])
    yield line(["접수→수락 90백분위(시간)", _hours(figures.to_acceptance.p90)])
    yield line(["응답 대기", figures.waiting_for_answer])
    yield line(["결과 대기", figures.waiting_for_outcome])
    yield line([])
    yield line(["기관", "기관명", "요청", "수락", "거절", "만료", "수락률(%)", "거절률(%)"])
    for row in figures.institutes:
        yield line([row.key, row.name, row.sent, row.accepted, row.declined, row.expired,
                     _blank(row.acceptance), _blank(row.decline_rate)])  # fmt: skip


def _blank(value: float | None) -> object:
    return "" if value is None else value


def _hours(seconds: float | None) -> object:
    return "" if seconds is None else round(seconds / 3600, 1)
