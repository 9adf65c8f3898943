"""SLA escalation sweep, alerts, notification delivery, digest, retention, heartbeat, APScheduler runner."""
