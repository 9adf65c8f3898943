"""callflows actions rendered as TwiML, through twilio's VoiceResponse.

Every `<Gather>`/`<Record>` posts to `/ivr/voice/<step>?turn=N`: the last path segment is the step,
and the turn number lets a retried webhook be told apart from a new answer (see ivr.calls).
Silence must reach the flow too, so a `<Gather>` sets actionOnEmptyResult and both are followed by
a `<Redirect>` to the same URL (Twilio skips a `<Record>` action when nothing was recorded).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from callflows.call_actions import Action, Gather, Hangup, Pause, Prompt, Record, Say
from callflows.flow_config import FlowConfig, Language

SPEECH_TIMEOUT = "auto"  # end speech input at the caller's natural pause
RECORD_SILENCE_TIMEOUT = 5  # seconds of silence that end a recording
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
EMPTY_RESPONSE = str(VoiceResponse())  # the answer to a status or recording callback


def _language(config: FlowConfig, code: str) -> Language:
    return config.languages.get(code) or config.languages[config.default_language]


def _prompt(parent: Any, config: FlowConfig, prompt: Prompt) -> None:
    """A <Say> or <Pause> under `parent` (the response, or a <Gather>)."""
    if isinstance(prompt, Say):
        language = _language(config, prompt.language)
        parent.say(prompt.text, voice=language.voice, language=language.locale)
    else:
        parent.pause(length=max(1, prompt.seconds))


def _gather(response: VoiceResponse, action: Gather, config: FlowConfig, url: str) -> None:
    speech = "speech" in action.input_modes
    gather = response.gather(
        input=" ".join(action.input_modes),
        action=url,
        method="POST",
        timeout=action.timeout,
        num_digits=action.num_digits,
        finish_on_key=action.finish_on_key,
        action_on_empty_result=True,
        language=_language(config, action.language).locale if speech else None,
        hints=",".join(action.hints) if action.hints and speech else None,
        speech_timeout=SPEECH_TIMEOUT if speech else None,
    )
    for prompt in action.prompts:
        _prompt(gather, config, prompt)


def _record(
    response: VoiceResponse, action: Record, config: FlowConfig, url: str, recording_callback_url: str
) -> None:
    for prompt in action.prompts:  # <Record> cannot nest verbs: its prompts come before it
        _prompt(response, config, prompt)
    response.record(
        action=url,
        method="POST",
        max_length=action.max_length,
        finish_on_key=action.finish_on_key,
        play_beep=action.play_beep,
        timeout=RECORD_SILENCE_TIMEOUT,
        recording_status_callback=recording_callback_url,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )


def render(
    actions: Iterable[Action],
    config: FlowConfig,
    step_url: Callable[[str, str], str],
    recording_callback_url: str,
) -> str:
    """TwiML for `actions`; `step_url(step, language)` gives the absolute action URL of a step."""
    response = VoiceResponse()
    for action in actions:
        if isinstance(action, Say | Pause):
            _prompt(response, config, action)
        elif isinstance(action, Gather | Record):
            url = step_url(action.step, action.language)
            if isinstance(action, Gather):
                _gather(response, action, config, url)
            else:
                _record(response, action, config, url, recording_callback_url)
            response.redirect(url, method="POST")  # when the verb posted no action
        elif isinstance(action, Hangup):
            response.hangup()
        else:  # pragma: no cover - the Action union is closed
            raise TypeError(f"cannot render {action!r}")
    return str(response)
