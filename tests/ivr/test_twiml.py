"""ivr.twiml: what Twilio reads in the TwiML of every turn, parsed back from the XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from callflows import flow
from callflows.call_actions import Action, Gather, Hangup, Pause, Record, Say
from callflows.flow_config import FlowConfig
from callflows.replies import Reply
from callflows.state import CallState
from ivr import twiml
from tests.conftest import test_config

RECORDING_CALLBACK = "https://hotline.example/ivr/recording"


def step_url(step: str, language: str) -> str:
    return f"https://hotline.example/ivr/voice/{step}?turn=7&lang={language}"


# Each script: the caller's replies in order, one per turn.
RECORDED = {"RecordingUrl": "https://api.twilio.com/RE1", "RecordingDuration": "30"}
SCRIPTS = {
    "korean": [{"Digits": "2"}, {"Digits": "1"}, {"Digits": "1"}, RECORDED],
    "english": [
        {"Digits": "9"},
        {"Digits": "4"},
        {"Digits": "3"},
        {"Digits": "2"},
        {"Digits": "0212345678#"},
    ],
    "speech": [{"SpeechResult": "바이오 분야요"}, {"SpeechResult": "기술 자문"}],
    "wrong keys and silence": [{"Digits": "7"}, {}, {"Digits": "#"}, {}, {}, {}, {}, {}, {}],
    "no recording": [{"Digits": "3"}, {"Digits": "5"}, {"Digits": "1"}, {}, {}],
}


def turns(config: FlowConfig) -> Iterator[tuple[Action, ...]]:
    yield flow.restart(config, "+821012345678").actions
    yield flow.apology(config, "ko")
    yield flow.apology(config, "en")
    for replies in SCRIPTS.values():
        turn = flow.start(config, "+821012345678")
        yield turn.actions
        for form in replies:
            if turn.state.finished:
                break
            turn = flow.respond(config, turn.state, turn.state.step or "", Reply.from_twilio(form))
            yield turn.actions
        yield flow.farewell(config, turn.state, "1379-0042", sms=True)
    yield flow.farewell(config, CallState(language="en"), "1379-0043", sms=False)


@pytest.fixture(scope="module")
def flow_config() -> FlowConfig:
    return test_config().flow


def _parse(actions: tuple[Action, ...], config: FlowConfig) -> ET.Element:
    return ET.fromstring(twiml.render(actions, config, step_url, RECORDING_CALLBACK))


def steps_of(actions: tuple[Action, ...]) -> set[str]:
    return {action.step for action in actions if isinstance(action, Gather | Record)}


def test_every_question_posts_its_step_and_turn_and_is_followed_by_a_redirect_there(
    flow_config: FlowConfig,
) -> None:
    questions = 0
    for actions in turns(flow_config):
        response = _parse(actions, flow_config)
        assert response.tag == "Response"
        verbs = list(response)
        for index, verb in enumerate(verbs):
            if verb.tag not in ("Gather", "Record"):
                continue
            questions += 1
            url = verb.get("action", "")
            assert urlsplit(url).path.rsplit("/", 1)[1] in steps_of(actions)
            assert "turn=7" in url and verb.get("method") == "POST"
            follower = verbs[index + 1]  # silence: Twilio goes on to the next verb
            assert (follower.tag, follower.text, follower.get("method")) == ("Redirect", url, "POST")
            if verb.tag == "Gather":
                assert verb.get("actionOnEmptyResult") == "true"
            else:
                assert list(verb) == []  # <Record> nests nothing: its prompt is said before it
                assert verb.get("recordingStatusCallback") == RECORDING_CALLBACK
                assert verb.get("recordingStatusCallbackEvent") == "completed"
    assert questions > 20


def test_speech_settings_come_only_with_speech_input(flow_config: FlowConfig) -> None:
    both = Gather("field", (Say("분야", "ko"),), "ko", ("dtmf", "speech"), 1, "", 5, ("바이오", "IT"))
    keys = Gather("callback_number", (), "ko", ("dtmf",))
    spoken, pressed = _parse((both,), flow_config).find("Gather"), _parse((keys,), flow_config).find("Gather")
    assert spoken is not None and pressed is not None
    assert (spoken.get("input"), spoken.get("hints"), spoken.get("speechTimeout")) == (
        "dtmf speech", "바이오,IT", twiml.SPEECH_TIMEOUT,
    )  # fmt: skip
    assert spoken.get("language") == flow_config.languages["ko"].locale
    assert pressed.get("input") == "dtmf"
    assert [pressed.get(name) for name in ("hints", "speechTimeout", "language")] == [None] * 3


def test_text_and_urls_with_markup_characters_reach_twilio_unchanged(flow_config: FlowConfig) -> None:
    text = "A & B <\"quoted\"> 'single' 삐 소리 후 & #"
    odd = 'https://h.example/ivr/voice/message?turn=1&lang=en&x="<\'>"'
    actions = (Say(text, "en"), Pause(0), Record("message", (), "en", 120, "", False), Hangup())
    response = ET.fromstring(twiml.render(actions, flow_config, lambda step, lang: odd, odd))
    say, pause, record, redirect, hangup = list(response)
    assert (say.text, say.get("voice")) == (text, flow_config.languages["en"].voice)
    assert pause.get("length") == "1"  # Twilio pauses at least a second
    assert (record.get("action"), record.get("recordingStatusCallback"), redirect.text) == (odd, odd, odd)
    assert (record.get("playBeep"), hangup.tag) == ("false", "Hangup")


def test_a_callback_is_answered_with_an_empty_response() -> None:
    response = ET.fromstring(twiml.EMPTY_RESPONSE)
    assert response.tag == "Response" and list(response) == []
