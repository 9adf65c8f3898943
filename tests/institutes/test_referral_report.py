"""The referral figures: the three-day share, time to acceptance and the per-institute rates."""

from __future__ import annotations

from datetime import date, timedelta

from supervisor.referral_report import referral_figures
from supervisor.reports import Period
from tests.conftest import NOW
from tickets.models import Referral, ReferralStatus


def test_only_an_acceptance_within_three_days_of_the_call_counts_as_connected_in_time(
    session, make_user, make_ticket, make_institute
) -> None:
    make_user("it-kim")
    fast, slow, waiting = make_ticket(), make_ticket(), make_ticket()
    lab, park = make_institute("lab"), make_institute("park")
    day = timedelta(days=1)
    session.add_all([
        Referral(ticket=fast, institute=lab, status="accepted", sent_at=NOW, answered_at=NOW + day),
        Referral(ticket=slow, institute=lab, status="completed", sent_at=NOW, answered_at=NOW + 4 * day),
        Referral(ticket=slow, institute=park, status="declined", sent_at=NOW, answered_at=NOW + day),
        Referral(ticket=waiting, institute=park, status=ReferralStatus.SENT, sent_at=NOW),
    ])  # fmt: skip
    session.flush()
    figures = referral_figures(session, Period(date(2026, 11, 1), date(2026, 11, 30)))
    assert (figures.tickets_referred, figures.connected, figures.connected_in_time) == (3, 2, 1)
    assert figures.share_in_time == 33.3
    assert figures.to_acceptance.median == 2.5 * 86400
    assert (figures.waiting_for_answer, figures.waiting_for_outcome) == (1, 1)
    rates = {r.key: (r.sent, r.acceptance, r.decline_rate) for r in figures.institutes}
    assert rates == {"lab": (2, 100.0, 0.0), "park": (2, 0.0, 50.0)}
    assert (
        referral_figures(session, Period(date(2026, 11, 1), date(2026, 11, 30), "bio")).tickets_referred == 0
    )
