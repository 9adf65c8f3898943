"""A call joins an open ticket only on proof (the network caller ID filed it) and reveals nothing else.

The case from the issue: a caller from +82-10-6363-0003 typed another company's number as their callback
number, in the same field. They must not join that ticket, nor hear its reference, field or status.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.simulator import CallResult
from tests.ivr.conftest import PlaceCall, tickets_of
from tickets.models import Ticket

OTHER_COMPANY = "+821062620002"
CALLER = "+821063630003"
FIRST_CALL = "field=2,support_type=1,callback=1,message=record:35"  # machinery, equipment use


def _spoken_digits(reference: str) -> str:
    return "".join("공일이삼사오육칠팔구"[int(d)] for d in reference if d.isdigit())


def _heard_reference(result: CallResult, reference: str) -> bool:
    return _spoken_digits(reference) in "".join(c for c in result.transcript if "\uac00" <= c <= "\ud7a3")


def test_a_typed_number_of_another_company_never_joins_its_ticket(
    place_call: PlaceCall, session: Session
) -> None:
    first = place_call(FIRST_CALL, from_number=OTHER_COMPANY)
    (theirs,) = tickets_of(session, first)

    typed = place_call(
        "field=2,support_type=2,callback=2,callback_number=01062620002#,callback_confirm=1,message=record:20",
        from_number=CALLER,
    )
    assert "repeat_choice" not in typed.steps and "이미 접수된 상담이 있습니다." not in typed.heard
    (mine,) = tickets_of(session, typed)
    assert mine != theirs and not _heard_reference(typed, theirs.reference)
    assert _heard_reference(typed, mine.reference)
    assert (mine.support_type, mine.caller_number) == ("advice", CALLER)
    session.refresh(theirs)
    assert not [
        e for e in theirs.events if e.type in ("repeat_call", "recording_added") and e.detail.get("extra")
    ]


def test_a_withheld_caller_id_is_never_offered_an_open_ticket(
    place_call: PlaceCall, session: Session
) -> None:
    place_call(FIRST_CALL, from_number=OTHER_COMPANY)
    withheld = place_call(
        "field=2,support_type=1,callback_number=01062620002#,callback_confirm=1,message=record:20",
        from_number="anonymous",
    )
    assert "repeat_choice" not in withheld.steps
    assert session.scalar(select(func.count()).select_from(Ticket)) == 2


def test_a_caller_with_an_open_ticket_may_file_a_new_request_with_its_own_support_type(
    place_call: PlaceCall, session: Session
) -> None:
    first = place_call(FIRST_CALL, from_number=CALLER)
    (open_one,) = tickets_of(session, first)
    again = place_call(
        "field=2,repeat_choice=2,support_type=4,callback=1,message=record:20", from_number=CALLER
    )
    assert again.steps == ["field", "repeat_choice", "support_type", "callback", "message"]
    assert "이미 접수된 상담이 있습니다." in again.heard
    (new_one,) = tickets_of(session, again)
    assert new_one != open_one and (new_one.field, new_one.support_type) == ("machinery", "information")
    assert _heard_reference(again, new_one.reference) and not _heard_reference(again, open_one.reference)
    assert not [e for e in open_one.events if e.type == "repeat_call"]


def test_silence_at_the_choice_adds_the_message_to_the_callers_own_ticket(
    place_call: PlaceCall, session: Session
) -> None:
    first = place_call(FIRST_CALL, from_number=CALLER)
    (ticket,) = tickets_of(session, first)
    again = place_call("field=2,message=record:20", from_number=CALLER)
    assert again.steps == ["field", "repeat_choice", "message"]  # nothing already confirmed is asked again
    assert tickets_of(session, again) == [] and _heard_reference(again, ticket.reference)
    session.refresh(ticket)
    (repeat,) = [e for e in ticket.events if e.type == "repeat_call"]
    recording_sid = next(e.form["RecordingSid"] for e in again.exchanges if e.url.endswith("/recording"))
    assert repeat.detail["call_sid"] == again.call_sid and repeat.detail["recording_sid"] == recording_sid
