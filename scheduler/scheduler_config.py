"""What the scheduler needs from config.yaml: the SLA policy (tickets owns its type), notification channels
and job timing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from tickets.ticket_config import SlaPolicy


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
