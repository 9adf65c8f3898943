"""The call state survives the database between every two webhooks."""

from __future__ import annotations

import json

import pytest

from callflows.flow import start
from callflows.flow_config import FlowConfig
from callflows.state import STEPS, CallState

from .helpers import answer, through_json


def test_steps_in_order() -> None:
    assert STEPS == (
        "field",
        "repeat_choice",
        "support_type",
        "callback",
        "callback_number",
        "callback_confirm",
        "message",
    )


def test_state_round_trips_through_json_at_every_step(config: FlowConfig) -> None:
    turn = start(config, "+821012345678")
    seen = []
    replies: list[dict[str, object]] = [
        {"digits": "9"},
        {"speech": "bio and medical"},
        {"digits": "7"},
        {"digits": "3"},
        {"digits": "2"},
        {"digits": "0212"},
        {"digits": "0212345678#"},
        {"digits": "1"},
        {},
        {"recording_url": "https://api.twilio.com/rec/RE1", "recording_duration": 7},
    ]
    for reply in replies:
        seen.append(turn.state.step)
        assert through_json(turn.state) == turn.state
        turn = answer(config, turn, **reply)  # answer() also checks the round trip
    assert turn.state.finished
    assert through_json(turn.state) == turn.state
    assert set(seen) == set(STEPS) - {"repeat_choice"}  # met only by a caller with an open ticket
    saved = json.loads(json.dumps(turn.state.to_dict()))
    assert saved == {
        "language": "en",
        "step": "message",
        "caller_number": "+821012345678",
        "field": "bio",
        "support_type": "rnd",
        "callback_number": "+82212345678",
        "callback_source": "entered",
        "recording": {"url": "https://api.twilio.com/rec/RE1", "duration": 7},
        "failures": 0,
        "finished": True,
        "defaulted_steps": [],
        "open_fields": [],
        "joins_open_ticket": False,
        "answered": True,
        "missed": False,
        "version": 1,
    }


def test_from_dict_fills_missing_keys_with_defaults() -> None:
    assert CallState.from_dict({}) == CallState()
    old_row = {"step": "callback", "language": "en", "field": "it", "failures": "2", "extra": "ignored"}
    state = CallState.from_dict(old_row)
    assert (state.step, state.language, state.field, state.failures) == ("callback", "en", "it", 2)
    assert state.recording is False and state.defaulted_steps == () and not state.finished


@pytest.mark.parametrize("data", [{"step": "nowhere"}, {"language": "fr"}])
def test_from_dict_refuses_what_this_code_cannot_continue(data: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        CallState.from_dict(data)


def test_at_moves_on_with_a_fresh_failure_count() -> None:
    state = CallState(failures=2).at("support_type")
    assert state.step == "support_type" and state.failures == 0
