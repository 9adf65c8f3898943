"""The SLA deadline arithmetic: when a ticket must be resolved, warned about and escalated.

Computed when a ticket changes and stored on it: every ticket service calls `stamp(ticket, now)`, which uses
the app's deadlines (`init_app`, from config.yaml's `scheduler.sla`). The sweep only reads
`next_escalation_at <= now` and moves it on to the next alert.

The SLA clock of a round starts at creation (or at a reopen, which starts a new round) and does not run while
the ticket waits (its SlaPause stretches). In `calendar` mode it counts every second; in `working_days` mode
only the center's working hours. Warning and escalation offsets are hours on the clock, before or after the
deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import inspect

from tickets.business_hours import BusinessHours
from tickets.models import Status, Ticket
from tickets.ticket_config import SlaPolicy

WARNING_LEVEL = 0

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Alert:
    level: int  # 0 warns before the deadline, 1 is the breach, 2 and up follow
    due_at: datetime


def business_hours(policy: SlaPolicy) -> BusinessHours:
    return BusinessHours(
        start=policy.workday_start,
        end=policy.workday_end,
        timezone=policy.timezone,
        closed_days=frozenset(policy.closed_days),
    )


@dataclass(frozen=True)
class SlaDeadlines:
    policy: SlaPolicy
    hours: BusinessHours = None  # type: ignore[assignment]  # filled in from the policy

    def __post_init__(self) -> None:
        if self.hours is None:
            object.__setattr__(self, "hours", business_hours(self.policy))

    # --- the clock ---------------------------------------------------------------------------------------

    def _measure(self, begin: datetime, end: datetime) -> float:
        if self.policy.mode == "working_days":
            return self.hours.between(begin, end)
        return max(0.0, (end - begin).total_seconds())

    def _advance(self, begin: datetime, seconds: float) -> datetime:
        if self.policy.mode == "working_days":
            return self.hours.add(begin, seconds)
        return begin + timedelta(seconds=seconds)

    def budget_seconds(self) -> float:
        if self.policy.mode == "working_days":
            return self.policy.resolve_within_days * self.hours.day_seconds
        return self.policy.resolve_within_days * 86400.0

    def missed_call_budget_seconds(self) -> float:
        """A missed call's target is in working days whatever the mode: "call back within 1 working day"."""
        return self.policy.missed_call_within_working_days * self.hours.day_seconds

    def due(self, start: datetime, pauses: Iterable[Interval], missed_call: bool = False) -> datetime:
        """When the budget is used up, counting from `start` and skipping the paused stretches."""
        if missed_call:
            return self.hours.add(start, self.missed_call_budget_seconds())
        remaining = self.budget_seconds()
        cursor = start
        for paused_from, paused_to in sorted(pauses):
            if paused_to <= cursor:
                continue
            running = self._measure(cursor, paused_from)
            if running >= remaining:
                break
            remaining -= running
            cursor = max(cursor, paused_to)
        return self._advance(cursor, remaining)

    # --- alerts ------------------------------------------------------------------------------------------

    def alerts(self, start: datetime, due: datetime) -> list[Alert]:
        """Every alert of a round in order. A warning that would fall before the round began is left out."""
        schedule = []
        if self.policy.warn_before_hours > 0:
            warn_at = due - timedelta(hours=self.policy.warn_before_hours)
            if warn_at > start:
                schedule.append(Alert(WARNING_LEVEL, warn_at))
        for lv in self.policy.levels:
            schedule.append(Alert(lv.level, due + timedelta(hours=lv.after_breach_hours)))
        return schedule

    def pending_alerts(self, ticket: Ticket) -> list[Alert]:
        """The alerts of the ticket's round not yet given (a breach makes the warning moot)."""
        if ticket.sla_due_at is None or ticket.sla_started_at is None:
            return []
        level = ticket.escalation_level or 0
        warning_pending = level == 0 and ticket.warned_at is None
        return [
            alert
            for alert in self.alerts(ticket.sla_started_at, ticket.sla_due_at)
            if alert.level > level or (alert.level == WARNING_LEVEL and warning_pending)
        ]

    def next_escalation_at(self, ticket: Ticket) -> datetime | None:
        if not ticket.is_open or ticket.paused_at is not None or ticket.status == Status.WAITING:
            return None  # closed: never again; waiting: the clock stands still until the ticket resumes
        pending = self.pending_alerts(ticket)
        return min(a.due_at for a in pending) if pending else None

    # --- stored on the ticket ----------------------------------------------------------------------------

    def stamp(self, ticket: Ticket, now: datetime) -> None:
        """Store sla_due_at, first_callback_due_at and next_escalation_at for the ticket as it is now."""
        if not ticket.is_open:
            # Resolved or closed: nothing more escalates. With the start cleared, a reopen is a new round.
            ticket.next_escalation_at = None
            ticket.sla_started_at = None
            return
        if ticket.sla_started_at is None:
            if ticket.sla_due_at is None:  # never stamped: the clock starts at creation
                ticket.sla_started_at = ticket.created_at or now
                ticket.sla_round = ticket.sla_round or 0
            else:  # reopened: a fresh deadline, and its alerts are new
                ticket.sla_started_at = now
                ticket.sla_round = (ticket.sla_round or 0) + 1
                ticket.escalation_level = 0
                ticket.warned_at = None
        start = ticket.sla_started_at
        pauses = list(self._pauses(ticket, start, now))
        ticket.sla_due_at = self.due(start, pauses, missed_call=bool(ticket.missed_call))
        within = self.policy.first_callback_within_working_hours
        ticket.first_callback_due_at = self.hours.add(start, within * 3600) if within else None
        ticket.next_escalation_at = self.next_escalation_at(ticket)

    def _pauses(self, ticket: Ticket, start: datetime, now: datetime) -> Iterable[Interval]:
        """The round's waiting stretches; one still open counts up to now (the due date is then provisional).

        Ticket services record each stretch as an SlaPause; a ticket without them falls back on the summary
        columns (paused_seconds, paused_at), which place the waiting time just before now.
        """
        never_waited = ticket.paused_at is None and not ticket.paused_seconds
        if never_waited and "pauses" in inspect(ticket).unloaded:
            # Not loaded, and the summary columns say there is nothing to load: most tickets, every new one.
            return
        rows = [p for p in ticket.pauses if (p.ended_at or now) > start]
        if rows:
            for pause in rows:
                yield max(pause.started_at, start), pause.ended_at or now
            return
        if ticket.paused_at is not None:
            yield max(ticket.paused_at, start), now
        if ticket.paused_seconds and ticket.sla_round == 0:
            end = ticket.paused_at or now
            yield end - timedelta(seconds=ticket.paused_seconds), end


_EXTENSION = "sla_deadlines"


def init_app(app: Flask) -> None:
    """Build the app's deadlines once from its config (holidays and all), for every ticket service."""
    app.extensions[_EXTENSION] = SlaDeadlines(app.config["HOTLINE"].scheduler.sla)


def deadlines() -> SlaDeadlines:
    """The deadlines of the app in whose context this runs."""
    found: SlaDeadlines = current_app.extensions[_EXTENSION]
    return found


def stamp(ticket: Ticket, now: datetime) -> None:
    """Store the ticket's deadlines for the ticket as it is now, by the app's SLA policy."""
    deadlines().stamp(ticket, now)
