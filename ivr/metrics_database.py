"""The hotline's state as Prometheus sees it, read from the database at each scrape.

Counted where they are stored, these figures are right whichever process asks and whichever did the work
(a web worker, the scheduler process, another host), with nothing kept in sync by hand. Each is a grouped
count through an index the app already has; a scrape every 15 s costs a few milliseconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tickets import clock
from tickets.models import (
    OPEN_STATUSES,
    Escalation,
    OutboxMessage,
    Referral,
    ReferralStatus,
    SchedulerHeartbeat,
    Ticket,
)
from tickets.outbox import DEAD, PENDING, SENDING, SENT

OUTBOX_STATES = (PENDING, SENDING, DEAD)
DELIVERY_WINDOW = timedelta(minutes=10)  # the delivery latency histogram covers messages sent this recently
DELIVERY_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)


class DatabaseCollector:
    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[Any]:
        now = clock.now()
        yield from self._tickets(now)
        yield from self._outbox(now)
        yield from self._scheduler(now)

    def _tickets(self, now: Any) -> Iterator[Any]:
        open_tickets = GaugeMetricFamily(
            "hotline_tickets_open", "Open tickets by field and status", labels=["field", "status"]
        )
        rows = self.session.execute(
            select(Ticket.field, Ticket.status, func.count())
            .where(Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.field, Ticket.status)
        )
        for field, status, count in rows:
            open_tickets.add_metric([field, status], count)
        yield open_tickets

        breached = self.session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.status.in_(OPEN_STATUSES), Ticket.sla_due_at <= now, Ticket.paused_at.is_(None))
        )
        yield GaugeMetricFamily(
            "hotline_tickets_breached_open", "Open tickets past their SLA deadline (not paused)", breached
        )

        escalations = CounterMetricFamily(
            "hotline_escalations", "SLA alerts sent, by level (0 warns before the deadline)", labels=["level"]
        )
        for level, count in self.session.execute(
            select(Escalation.level, func.count()).group_by(Escalation.level)
        ):
            escalations.add_metric([str(level)], count)
        yield escalations

    def _outbox(self, now: Any) -> Iterator[Any]:
        messages = GaugeMetricFamily(
            "hotline_outbox_messages",
            "Outbox messages waiting (pending), being sent (sending) or given up (dead), by channel",
            labels=["channel", "status"],
        )
        counts = {(channel, status): 0 for channel in _channels() for status in OUTBOX_STATES}
        for channel, status, count in self.session.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_(OUTBOX_STATES))
            .group_by(OutboxMessage.channel, OutboxMessage.status)
        ):
            counts[(channel, status)] = count
        for (channel, status), count in sorted(counts.items()):
            messages.add_metric([channel, status], count)
        yield messages

        # A sent message keeps in next_try_at the lease taken just before its send: the (status,
        # next_try_at) index finds the recent ones.
        recent = self.session.execute(
            select(OutboxMessage.channel, OutboxMessage.created_at, OutboxMessage.sent_at).where(
                OutboxMessage.status == SENT, OutboxMessage.next_try_at >= now - DELIVERY_WINDOW
            )
        )
        by_channel: dict[str, list[float]] = defaultdict(list)
        for channel, created_at, sent_at in recent:
            if sent_at is not None and sent_at >= now - DELIVERY_WINDOW:
                by_channel[channel].append((sent_at - created_at).total_seconds())
        latency = GaugeHistogramMetricFamily(
            "hotline_outbox_delivery_seconds",
            "From written to sent, for the messages sent in the last 10 minutes, by channel",
            labels=["channel"],
        )
        for channel, seconds in sorted(by_channel.items()):
            buckets = [(str(bound), sum(s <= bound for s in seconds)) for bound in DELIVERY_BUCKETS]
            latency.add_metric([channel], [*buckets, ("+Inf", len(seconds))], sum(seconds))
        yield latency

    def _scheduler(self, now: Any) -> Iterator[Any]:
        waiting = self.session.scalar(
            select(func.count()).select_from(Referral).where(Referral.status == ReferralStatus.SENT)
        )
        yield GaugeMetricFamily(
            "hotline_referrals_waiting", "Referrals sent to an institute and not answered yet", waiting
        )
        latest = self.session.execute(
            select(func.max(SchedulerHeartbeat.beat_at), func.max(SchedulerHeartbeat.sweep_succeeded_at))
        ).one()
        beat_at, swept_at = latest
        yield GaugeMetricFamily(
            "hotline_scheduler_heartbeat_age_seconds",
            "Since the latest beat of any scheduler (+Inf: none ever beat)",
            (now - beat_at).total_seconds() if beat_at else float("inf"),
        )
        if swept_at is None:
            return
        yield GaugeMetricFamily(
            "hotline_sla_sweep_last_success_timestamp_seconds",
            "When an SLA sweep last succeeded (Unix time)",
            swept_at.timestamp(),
        )
        seconds = self.session.scalar(
            select(SchedulerHeartbeat.sweep_seconds).where(SchedulerHeartbeat.sweep_succeeded_at == swept_at)
        )
        yield GaugeMetricFamily(
            "hotline_sla_sweep_duration_seconds", "How long the latest successful SLA sweep took", seconds
        )


def _channels() -> tuple[str, ...]:
    # Every channel shows, at 0 too: an alert on `> 0` then has a series to compare from the start.
    return ("console", "email", "sms", "webhook")
