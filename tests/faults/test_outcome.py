"""The fault tests' judge: what it calls a duplicate, a wrong reference, a repeated apology or caller data
left only in the log. The faults never produce some of these, so they are checked here, without a server."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from callflows import prompts
from callflows.phones import speak_digits
from ivr.simulator import CallResult
from tests.faults.callers import APOLOGY_STEP, PlacedCall, TwilioTransport
from tests.faults.outcome import CallOutcome, CallRow, Table, TicketRow

NUMBER = "+821090001234"


def outcome(
    tickets: list[TicketRow],
    *,
    heard: Sequence[str] = (),
    steps: Sequence[str] = (),
    lost: AbstractSet[str] = frozenset(),
) -> CallOutcome:
    result = CallResult("CA" + "1" * 32, heard=list(heard), steps=list(steps))
    call = PlacedCall(result.call_sid, NUMBER, result, TwilioTransport())
    row = CallRow(NUMBER, None, "completed", True)
    return CallOutcome(
        call, tickets, row, lost_recordings=set(lost), logged_recordings=set(lost) & {"logged"}
    )


def told(reference: str) -> str:
    return prompts.text("reference", "ko", reference=speak_digits(reference, "ko", slow=True))


def test_a_call_read_its_own_complete_ticket_is_right() -> None:
    right = outcome([TicketRow("4821-9135", incomplete=False)], heard=[told("4821-9135")])
    assert right.told_a_reference
    assert right.problems() == []


def test_two_tickets_for_one_caller_are_a_duplicate() -> None:
    table = Table("t", [outcome([TicketRow("4821-9135", False), TicketRow("1111-2222", True)])])
    assert table.figures()["duplicates"] == 1
    assert table.wrong


def test_a_reference_read_to_the_caller_must_be_its_complete_ticket() -> None:
    other = outcome([TicketRow("4821-9135", False)], heard=[told("1111-2222")])
    incomplete = outcome([TicketRow("4821-9135", True)], heard=[told("4821-9135")])
    table = Table("t", [other, incomplete])
    assert table.figures()["wrong reference"] == 2


def test_a_second_apology_and_recordings_outside_the_database_are_wrong() -> None:
    twice = outcome([TicketRow("4821-9135", True)], steps=[APOLOGY_STEP, APOLOGY_STEP])
    logged = outcome([TicketRow("4821-9135", True)], lost={"logged", "nowhere"})
    figures = Table("t", [twice, logged]).figures()
    assert figures["apologised 2+"] == 1
    assert (figures["recordings not in db"], figures["of them only in log"]) == (2, 1)
    assert twice.problems() and logged.problems()


def test_a_call_without_a_ticket_is_missing() -> None:
    table = Table("t", [outcome([])])
    assert table.figures()["missing"] == 1
    assert "no ticket" in table.render()
