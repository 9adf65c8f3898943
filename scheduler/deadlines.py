"""Deadline arithmetic: when a ticket must be resolved, warned about and escalated.

Computed when a ticket changes and stored on it (tickets.deadlines.DeadlinePolicy); the sweep only reads
`next_escalation_at <= now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.config import SlaPolicy
from tickets.models import Ticket


@dataclass(frozen=True)
class CalendarDeadlines:
    """Resolve within N days on the clock; time spent waiting does not count."""

    policy: SlaPolicy

    def due(self, ticket: Ticket) -> datetime:
        return ticket.created_at + timedelta(
            days=self.policy.resolve_within_days, seconds=ticket.paused_seconds
        )

    def escalation_times(self, due: datetime) -> list[tuple[int, datetime]]:
        """(level, when) for every alert: level 0 warns before the deadline, 1 is the breach, 2 … follow."""
        times = (
            [(0, due - timedelta(hours=self.policy.warn_before_hours))]
            if self.policy.warn_before_hours
            else []
        )
        times += [(lv.level, due + timedelta(hours=lv.after_breach_hours)) for lv in self.policy.levels]
        return times

    def stamp(self, ticket: Ticket, now: datetime) -> None:
        if not ticket.is_open or ticket.paused_at is not None:
            # Closed tickets never escalate; a waiting ticket's clock is stopped until it resumes.
            ticket.next_escalation_at = None
            if not ticket.is_open:
                return
            ticket.sla_due_at = self.due(ticket)
            return
        ticket.sla_due_at = self.due(ticket)
        pending = [
            when
            for level, when in self.escalation_times(ticket.sla_due_at)
            if level > ticket.escalation_level or (level == 0 and ticket.escalation_level == 0)
        ]
        ticket.next_escalation_at = min(pending) if pending else None


def deadline_policy(config: object) -> CalendarDeadlines:
    """The policy the config asks for. `config` is ivr's HotlineConfig, typed loosely: ivr imports us."""
    return CalendarDeadlines(config.scheduler.sla)  # type: ignore[attr-defined]
