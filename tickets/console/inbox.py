"""The console inbox: every page's header counts the user's unread notifications; /console/notifications
lists them (newest first, times in Asia/Seoul, a link to the ticket) and marks one or all read.

Any logged-in user has an inbox: consultants get their warnings and repeat calls, supervisors the SLA
alerts of their fields and the morning digest. The rows come from the outbox's console channel
(tickets.inbox.deliver).
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for

from tickets import clock, inbox
from tickets.auth import current_user, login_required
from tickets.console import bp
from tickets.db import db
from tickets.models import User


def unread_notifications(user: User | None) -> int:
    return inbox.unread_count(db.session(), user) if user is not None else 0


@bp.app_context_processor
def _inbox_globals() -> dict[str, Any]:
    # For every page's header, the supervisor dashboard's too (its templates live in another blueprint).
    return {"unread_notifications": unread_notifications}


def _me() -> User:
    user = current_user()
    assert user is not None  # login_required
    return user


@bp.get("/notifications")
@login_required()
def notifications() -> Any:
    return render_template("console/notifications.html", items=inbox.latest(db.session(), _me()))


@bp.post("/notifications/<int:notification_id>/read")
@login_required()
def mark_notification_read(notification_id: int) -> Any:
    inbox.mark_read(db.session(), _me(), clock.now(), notification_id)
    return redirect(url_for("console.notifications"), code=303)


@bp.post("/notifications/read")
@login_required()
def mark_all_notifications_read() -> Any:
    inbox.mark_read(db.session(), _me(), clock.now())
    return redirect(url_for("console.notifications"), code=303)
