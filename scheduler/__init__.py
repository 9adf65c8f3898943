"""SLA policy and calendar, escalation sweep, notification delivery, APScheduler runner, dashboard."""
