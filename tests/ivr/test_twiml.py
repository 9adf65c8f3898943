"""ivr.twiml writes TwiML as text: exactly what twilio's VoiceResponse writes for the same actions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from twilio.twiml.voice_response import VoiceResponse

from callflows import flow
from callflows.actions import Action, Gather, Hangup, Pause, Prompt, Record, Say
from callflows.config import FlowConfig
from callflows.replies import Reply
from callflows.state import CallState
from ivr import twiml
from tests.conftest import test_config

RECORDING_CALLBACK = "https://hotline.example/ivr/recording"


def step_url(step: str, language: str) -> str:
    return f"https://hotline.example/ivr/voice/{step}?turn=7&lang={language}"


def with_voice_response(
    actions: Iterable[Action], config: FlowConfig, url_of: Callable[[str, str], str], callback: str
) -> str:
    """The reference: the same actions built with twilio's VoiceResponse."""

    def prompt(parent: VoiceResponse | Any, item: Prompt) -> None:
        if isinstance(item, Say):
            language = config.languages.get(item.language) or config.languages[config.default_language]
            parent.say(item.text, voice=language.voice, language=language.locale)
        else:
            parent.pause(length=max(1, item.seconds))

    response = VoiceResponse()
    for action in actions:
        if isinstance(action, Say | Pause):
            prompt(response, action)
        elif isinstance(action, Gather):
            url = url_of(action.step, action.language)
            speech = "speech" in action.input_modes
            locale = (
                config.languages.get(action.language) or config.languages[config.default_language]
            ).locale
            gather = response.gather(
                input=" ".join(action.input_modes),
                action=url,
                method="POST",
                timeout=action.timeout,
                num_digits=action.num_digits,
                finish_on_key=action.finish_on_key,
                action_on_empty_result=True,
                language=locale if speech else None,
                hints=",".join(action.hints) if action.hints and speech else None,
                speech_timeout=twiml.SPEECH_TIMEOUT if speech else None,
            )
            for item in action.prompts:
                prompt(gather, item)
            response.redirect(url, method="POST")
        elif isinstance(action, Record):
            url = url_of(action.step, action.language)
            for item in action.prompts:
                prompt(response, item)
            response.record(
                action=url,
                method="POST",
                max_length=action.max_length,
                finish_on_key=action.finish_on_key,
                play_beep=action.play_beep,
                timeout=twiml.RECORD_SILENCE_TIMEOUT,
                recording_status_callback=callback,
                recording_status_callback_method="POST",
                recording_status_callback_event="completed",
            )
            response.redirect(url, method="POST")
        elif isinstance(action, Hangup):
            response.hangup()
    return str(response.to_xml())


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
    "another number": [
        {"Digits": "1"},
        {"Digits": "2"},
        {"Digits": "2"},
        {"Digits": "12#"},
        {"Digits": "01099998888#"},
    ],
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


ESCAPES = (
    Say("A & B <\"quoted\"> 'single'\nnew line\ttab\rreturn", "ko"),
    Pause(0),
    Gather("field", (Say("<&>", "en"), Pause(2)), "en", ("dtmf", "speech"), 1, "#", 5, ('a"b', "c&d")),
    Gather("callback_number", (), "ko"),
    Record("message", (Say("삐 소리 후 말씀해 주세요 & #", "ko"),), "ko", 120, "", False),
    Hangup(),
)


@pytest.fixture(scope="module")
def flow_config() -> FlowConfig:
    return test_config().flow


def test_every_turn_of_the_flow_renders_as_voice_response_would(flow_config: FlowConfig) -> None:
    rendered = 0
    for actions in turns(flow_config):
        expected = with_voice_response(actions, flow_config, step_url, RECORDING_CALLBACK)
        assert twiml.render(actions, flow_config, step_url, RECORDING_CALLBACK) == expected
        rendered += 1
    assert rendered > 25


def test_escaping_empty_verbs_and_booleans_match_voice_response(flow_config: FlowConfig) -> None:
    def odd_url(step: str, language: str) -> str:
        return f'https://h.example/ivr/voice/{step}?turn=1&lang={language}&x="<\'>"\t\n\r'

    expected = with_voice_response(ESCAPES, flow_config, odd_url, "https://h.example/rec?a=1&b=2")
    assert twiml.render(ESCAPES, flow_config, odd_url, "https://h.example/rec?a=1&b=2") == expected
    assert twiml.render((), flow_config, odd_url, "") == with_voice_response((), flow_config, odd_url, "")
    assert twiml.EMPTY_RESPONSE == str(VoiceResponse().to_xml())
