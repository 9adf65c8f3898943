"""The supervisor web app: dashboard, reports, charts, CSV exports and the SLA alerts API."""
