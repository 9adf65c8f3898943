"""A month and a half of hotline history, written to the database, and the same figures computed in Python.

The reports under test are SQL aggregates; `expected_*` below recompute each figure from the plain specs
with nothing but Python, so a wrong bucket, join or percentile shows up as a mismatch.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tickets.models import Call, CallbackAttempt, Escalation, Ticket, User

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
FIELDS = ("it", "machinery", "electronics", "bio", "general")
SUPPORT_TYPES = ("equipment", "advice", "rnd", "information", "transfer", "staffing", "other")
OUTCOMES = ("reached", "no_answer", "busy", "voicemail", "wrong_number")
SLA = timedelta(days=3)


@dataclass
class Spec:
    reference: str
    field: str
    support_type: str | None
    status: str
    created_at: datetime
    first_attempt_at: datetime | None = None
    finished_at: datetime | None = None  # resolved_at
    unreached_notified: bool = False
    attempts: list[tuple[str, datetime]] = field(default_factory=list)
    escalations: list[tuple[int, datetime]] = field(default_factory=list)

    @property
    def sla_due_at(self) -> datetime:
        return self.created_at + SLA

    @property
    def local_day(self) -> date:
        return self.created_at.astimezone(SEOUL).date()

    @property
    def finished(self) -> bool:
        return self.status in ("resolved", "closed")


def make_specs(count: int = 240, seed: int = 1379) -> list[Spec]:
    rng = random.Random(seed)
    specs: list[Spec] = []
    start = datetime(2026, 10, 1, 0, 0, tzinfo=SEOUL).astimezone(UTC)
    for index in range(count):
        created = start + timedelta(minutes=rng.randrange(0, 57 * 24 * 60))
        if index % 17 == 0:
            # Just before and after local midnight: the UTC date differs from the Seoul one.
            local = created.astimezone(SEOUL).replace(hour=23 if index % 2 else 0, minute=30)
            created = local.astimezone(UTC)
        if created >= NOW:
            created = NOW - timedelta(hours=rng.randrange(1, 200))
        spec = Spec(
            reference=f"{index:04d}-{seed % 10000:04d}",
            field=rng.choice(FIELDS),
            support_type=rng.choice((*SUPPORT_TYPES, None)) if index % 11 else None,
            status="new",
            created_at=created,
        )
        if rng.random() < 0.85:
            first = created + timedelta(seconds=rng.randrange(600, 4 * 86400))
            if first < NOW:
                spec.first_attempt_at = first
                spec.status = "in_progress"
                at = first
                for _ in range(rng.randrange(1, 4)):
                    spec.attempts.append((rng.choice(OUTCOMES), at))
                    at += timedelta(hours=rng.randrange(1, 30))
                spec.unreached_notified = rng.random() < 0.1
                finish = first + timedelta(seconds=rng.randrange(60, 3 * 86400))
                if finish < NOW and rng.random() < 0.8:
                    spec.finished_at = finish
                    spec.status = rng.choice(("resolved", "closed"))
        if not spec.finished and spec.status == "new" and rng.random() < 0.3:
            spec.status = rng.choice(("assigned", "waiting"))
        for level, offset in ((0, timedelta(hours=-24)), (1, timedelta(0)), (2, timedelta(hours=24))):
            due = spec.sla_due_at + offset
            finish = spec.finished_at or NOW
            if due <= finish and due <= NOW:
                spec.escalations.append((level, due))
        specs.append(spec)
    return specs


def write(session: Session, specs: list[Spec]) -> None:
    """The specs as rows, inserted in bulk: about 700 of them in every test that asks for a history."""
    consultant = User(username="report-consultant", display_name="보고서 상담원", role="consultant")
    session.add(consultant)
    session.flush()
    tickets = [
        {
            "reference": spec.reference,
            "field": spec.field,
            "support_type": spec.support_type,
            "status": spec.status,
            "created_at": spec.created_at,
            "updated_at": spec.created_at,
            "sla_due_at": spec.sla_due_at,
            "first_attempt_at": spec.first_attempt_at,
            "resolved_at": spec.finished_at if spec.status == "resolved" else None,
            "closed_at": spec.finished_at if spec.status == "closed" else None,
            "unreached_notified_at": spec.created_at if spec.unreached_notified else None,
            "assignee_id": consultant.id if spec.status != "new" else None,
        }
        for spec in specs
    ]
    ids = session.scalars(insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True), tickets).all()
    attempts = [
        {"ticket_id": ticket_id, "user_id": consultant.id, "outcome": outcome, "at": at}
        for ticket_id, spec in zip(ids, specs, strict=True)
        for outcome, at in spec.attempts
    ]
    escalations = [
        {"ticket_id": ticket_id, "level": level, "due_at": due, "created_at": due}
        for ticket_id, spec in zip(ids, specs, strict=True)
        for level, due in spec.escalations
    ]
    for model, rows in ((CallbackAttempt, attempts), (Escalation, escalations)):
        if rows:
            session.execute(insert(model), rows)


def write_calls(session: Session) -> None:
    """Calls around today (27 Nov in Seoul): what the dashboard counts as today's calls."""
    today_start = datetime(2026, 11, 27, 0, 0, tzinfo=SEOUL).astimezone(UTC)
    rows = [
        # (minutes after local midnight, status, flow completed, callback number on its ticket or None)
        (-30, "completed", True, "+821011112222"),  # yesterday in Seoul, today in UTC: not today
        (30, "completed", True, "+821011112222"),
        (60, "completed", True, None),  # anonymous caller who gave no number
        (90, "completed", False, "+821033334444"),  # hung up part-way
        (120, "completed", False, None),
        (150, "in-progress", False, None),
        (170, "no-answer", False, "no ticket"),
    ]
    for index, (minutes, status, completed, number) in enumerate(rows):
        call = Call(
            call_sid=f"CAreport{index:026d}",
            status=status,
            flow_completed=completed,
            started_at=today_start + timedelta(minutes=minutes),
        )
        session.add(call)
        session.flush()
        if number != "no ticket" and status != "in-progress":
            session.add(
                Ticket(
                    reference=f"9{index:03d}-7777",
                    call_id=call.id,
                    field="it",
                    status="new",
                    callback_number=number,
                    incomplete=not completed,
                    created_at=call.started_at,
                    sla_due_at=call.started_at + SLA,
                )
            )
    session.flush()


# --- the same figures, computed independently -------------------------------------------------------------


def in_period(specs: list[Spec], first: date, last: date, field_key: str | None = None) -> list[Spec]:
    return [s for s in specs if first <= s.local_day <= last and (field_key is None or s.field == field_key)]


def met(spec: Spec) -> bool:
    return spec.finished and spec.finished_at is not None and spec.finished_at <= spec.sla_due_at


def breached(spec: Spec) -> bool:
    if spec.finished:
        return spec.finished_at is not None and spec.finished_at > spec.sla_due_at
    return spec.sla_due_at <= NOW


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, written out by hand."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None
