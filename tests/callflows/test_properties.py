"""Whatever arrives from Twilio, in whatever order, the flow answers and never hangs."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callflows.call_actions import Gather, Hangup, Record
from callflows.flow import Reply, UnknownStep, respond, start
from callflows.state import STEPS, CallState

from .conftest import make_config

CONFIG = make_config()

caller_numbers = st.one_of(
    st.none(),
    st.sampled_from(
        ["+821012345678", "+82212345678", "anonymous", "+266696687", "", "+1234", "+12015550123"]
    ),
    st.text(max_size=30),
)
states = st.builds(
    CallState,
    language=st.sampled_from(["ko", "en"]),
    step=st.sampled_from(STEPS),
    caller_number=caller_numbers,
    field=st.one_of(st.none(), st.sampled_from(["it", "bio", "general"])),
    support_type=st.one_of(st.none(), st.sampled_from(["advice", "other"])),
    callback_number=st.one_of(st.none(), st.sampled_from(["+821098765432", "+827040001379"])),
    callback_source=st.sampled_from([None, "caller_id", "entered"]),
    failures=st.integers(min_value=0, max_value=5),
    finished=st.booleans(),
    open_fields=st.sampled_from([(), ("bio",), ("it", "general")]),
    answered=st.booleans(),
)
menu_speech = st.sampled_from(["바이오", "일번", "네", "아니요", "English", "IT요", "음", "9", "영번", "R&D"])
replies = st.builds(
    Reply,
    digits=st.one_of(st.none(), st.text(alphabet="0123456789*#", max_size=20), st.text(max_size=20)),
    speech=st.one_of(st.none(), menu_speech, st.text(max_size=50)),
    confidence=st.one_of(st.none(), st.floats(allow_nan=True)),
    recording_url=st.one_of(st.none(), st.just("https://x/r"), st.text(max_size=10)),
    recording_duration=st.one_of(st.none(), st.integers(min_value=-5, max_value=10**6)),
)
steps = st.one_of(st.sampled_from(STEPS), st.text(max_size=12))


def check_turn_is_answerable(turn_state: CallState, actions: tuple[object, ...]) -> None:
    assert CallState.from_dict(json.loads(json.dumps(turn_state.to_dict()))) == turn_state
    if turn_state.finished:
        # a request is filed by ivr, which then says goodbye; a missed call says its own goodbye
        assert actions == () if not turn_state.missed else isinstance(actions[-1], Hangup)
        return
    last = actions[-1]
    assert isinstance(last, Gather | Record) and last.step == turn_state.step
    assert turn_state.failures < CONFIG.max_failures


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=states, step=steps, reply=replies)
def test_any_reply_at_any_step_gets_an_answer(state: CallState, step: str, reply: Reply) -> None:
    state = CallState.from_dict({**state.to_dict(), "failures": min(state.failures, CONFIG.max_failures - 1)})
    if step not in STEPS:
        with pytest.raises(UnknownStep):
            respond(CONFIG, state, step, reply)
        return
    turn = respond(CONFIG, state, step, reply)
    check_turn_is_answerable(turn.state, turn.actions)


@settings(max_examples=150, deadline=None)
@given(caller=caller_numbers, script=st.lists(st.tuples(st.booleans(), replies), max_size=40))
def test_random_calls_always_end_in_a_question_or_finish(
    caller: str | None, script: list[tuple[bool, Reply]]
) -> None:
    """A whole call of random answers; `stale` sends it to a wrong step now and then."""
    turn = start(CONFIG, caller)
    for stale, reply in script:
        step = STEPS[(STEPS.index(turn.state.step) + 1) % len(STEPS)] if stale else turn.state.step
        turn = respond(CONFIG, turn.state, step, reply)
        check_turn_is_answerable(turn.state, turn.actions)
        if turn.state.finished:
            break


def test_a_silent_caller_is_asked_three_times_then_told_goodbye() -> None:
    """Silence every time: the first menu is asked at most 3 times in all, then the call ends as missed."""
    turn = start(CONFIG, "anonymous")
    asked = 1
    while not turn.state.finished:
        turn = respond(CONFIG, turn.state, turn.state.step, Reply())
        asked += not turn.state.finished
    assert asked == 3 and turn.state.missed
    assert turn.state.field is None and isinstance(turn.actions[-1], Hangup)


@settings(max_examples=100, deadline=None)
@given(first=st.sampled_from(["7", "9", "0"]))
def test_a_caller_who_pressed_a_key_then_fell_silent_still_reaches_the_end(first: str) -> None:
    """Defaults carry a caller who gave any input through every step to a finished request."""
    turn = respond(CONFIG, start(CONFIG, "anonymous").state, "field", Reply(digits=first))
    for _ in range(25):
        turn = respond(CONFIG, turn.state, turn.state.step, Reply())
        if turn.state.finished:
            break
    assert turn.state.finished and not turn.state.missed
    assert turn.state.field == "general" and turn.state.support_type in ("other", None)
    assert turn.state.callback_number is None and turn.state.recording is False


@settings(max_examples=150, deadline=None)
@given(
    open_fields=st.sampled_from([(), ("machinery",), ("it", "general")]),
    script=st.lists(replies, max_size=30),
)
def test_only_a_field_with_an_open_ticket_of_this_caller_id_is_offered_or_joined(
    open_fields: tuple[str, ...], script: list[Reply]
) -> None:
    """Whatever the caller presses or types (a callback number included), the open-ticket offer and the
    join happen only in a field where ivr found an open ticket of the network caller ID."""
    turn = start(CONFIG, "+821012345678", open_fields)
    for reply in script:
        if turn.state.step == "repeat_choice":
            assert turn.state.field in open_fields
        turn = respond(CONFIG, turn.state, turn.state.step, reply)
        if turn.state.joins_open_ticket:
            assert turn.state.field in open_fields
        if turn.state.finished:
            break
