"""The seam between tickets and the SLA policy.

Deadlines are stored on the ticket whenever it changes; the arithmetic (calendar or working days, holidays)
belongs to `scheduler`, which this package may not import. So ticket services take a DeadlinePolicy and
call it after every change that moves the clock; `scheduler.deadlines` provides the real one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tickets.models import Ticket


class DeadlinePolicy(Protocol):
    def stamp(self, ticket: Ticket, now: datetime) -> None:
        """Set sla_due_at, first_callback_due_at and next_escalation_at from the ticket as it is now."""
        ...
