"""What the scheduler needs from config.yaml: the SLA policy, notification channels and job timing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time


@dataclass(frozen=True)
class EscalationRecipient:
    role: str  # "assignee", "supervisor" (of the ticket's field), "head" (of the center)
    channels: tuple[str, ...]


@dataclass(frozen=True)
class EscalationLevel:
    level: int
    after_breach_hours: float
    notify: tuple[EscalationRecipient, ...]


@dataclass(frozen=True)
class SlaPolicy:
    mode: str = "calendar"  # "calendar" or "working_days"
    resolve_within_days: int = 3
    warn_before_hours: float = 24.0
    first_callback_within_working_hours: float | None = None
    missed_call_within_working_days: int = 1  # a missed call's target: call back within this
    workday_start: time = time(9, 0)
    workday_end: time = time(18, 0)
    closed_days: tuple[date, ...] = ()
    timezone: str = "Asia/Seoul"
    levels: tuple[EscalationLevel, ...] = ()
    # Who hears the warning before the deadline (level 0).
    warning_notify: tuple[EscalationRecipient, ...] = (
        EscalationRecipient(role="assignee", channels=("sms", "email", "console")),
    )


@dataclass(frozen=True)
class NotificationConfig:
    max_tries: int = 6
    backoff_seconds: float = 60.0
    sms_enabled: bool = True
    email_enabled: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = 25
    email_sender: str = "hotline1379@example.org"
    webhook_enabled: bool = False
    webhook_url: str | None = None
    head_name: str = "센터장"
    head_phone: str | None = None
    head_email: str | None = None
    digest_time: time = time(9, 0)
    # Messages of one channel sent at once. Each channel has its own, so a slow one holds only itself;
    # a few keep Twilio's and an SMTP server's limits on concurrent requests far away.
    sends_per_channel: int = 2


@dataclass(frozen=True)
class SchedulerConfig:
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    notifications: NotificationConfig = field(default_factory=NotificationConfig)
    sweep_interval_seconds: int = 60
