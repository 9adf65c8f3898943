"""How long anything waits on the database: a webhook's statements and lock waits are cut short, the
rest of the work (console, reports, scheduler) gets the long budget, and both come from config.yaml."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from ivr.config import ROOT, ConfigError, parse_config
from tickets.db import DatabaseBudgets, make_engine, webhook_budget

BUDGETS = DatabaseBudgets(webhook_seconds=0.3, work_seconds=5)


@pytest.fixture
def budgeted(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, BUDGETS)
    yield engine
    engine.dispose()


def _waits(engine: Engine) -> str:
    """The statement timeout (PostgreSQL) or busy timeout (SQLite) a transaction runs under."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            return str(connection.execute(text("SHOW statement_timeout")).scalar_one())
        return str(connection.execute(text("PRAGMA busy_timeout")).scalar_one())


def test_webhooks_wait_briefly_and_other_work_longer(budgeted: Engine) -> None:
    with webhook_budget():
        short = _waits(budgeted)
    long = _waits(budgeted)
    assert (short, long) == (("300ms", "5s") if budgeted.dialect.name == "postgresql" else ("300", "5000"))


def test_a_webhook_statement_that_runs_too_long_is_cancelled(budgeted: Engine) -> None:
    if budgeted.dialect.name != "postgresql":
        pytest.skip("SQLite has no statement timeout: its webhooks wait only on the busy timeout")
    with pytest.raises(OperationalError, match="statement timeout"), webhook_budget(), budgeted.begin() as c:
        c.execute(text("SELECT pg_sleep(1)"))
    with budgeted.begin() as connection:  # the same second is fine for other work
        connection.execute(text("SELECT pg_sleep(1)"))


def _config(database: dict[str, object]) -> dict[str, object]:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["database"] = database
    return dict(data)


def test_the_budgets_come_from_config_yaml() -> None:
    config = parse_config(_config({"webhook_seconds": 1.5, "work_seconds": 120}), environ={})
    assert config.database.webhook_seconds == 1.5 and config.database.work_seconds == 120
    assert config.database.answer_seconds == DatabaseBudgets().answer_seconds


def test_budgets_that_leave_a_webhook_no_time_to_answer_are_refused() -> None:
    with pytest.raises(ConfigError, match="database.answer_seconds"):
        parse_config(_config({"webhook_seconds": 4, "retry_unavailable_seconds": 2}), environ={})
    with pytest.raises(ConfigError, match="database.webhook_timeout"):
        parse_config(_config({"webhook_timeout": 4}), environ={})
