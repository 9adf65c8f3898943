"""GET /healthz for load balancers: is the database reachable, is a scheduler alive."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from scheduler.heartbeat import scheduler_status
from tickets.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    try:
        db.session.execute(text("SELECT 1"))
        scheduler = scheduler_status(db.session())
    except SQLAlchemyError as error:
        db.session.rollback()
        return jsonify(status="error", database=f"unreachable: {type(error).__name__}"), 503
    return jsonify(status="ok", database="ok", scheduler=scheduler)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
