"""callflows actions rendered as TwiML.

Every `<Gather>`/`<Record>` posts to `/ivr/voice/<step>?turn=N`: the last path segment is the step,
and the turn number lets a retried webhook be told apart from a new answer (see ivr.calls).
Silence must reach the flow too, so a `<Gather>` sets actionOnEmptyResult and both are followed by
a `<Redirect>` to the same URL (Twilio skips a `<Record>` action when nothing was recorded).

The document is written as text: the flow uses five verbs, and building them with twilio's
VoiceResponse and ElementTree cost a tenth of a webhook's time. The output is byte for byte what
VoiceResponse writes (sorted attributes, booleans as true/false, ElementTree's escaping);
tests/ivr/test_twiml.py holds it to that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from callflows.actions import Action, Gather, Hangup, Pause, Prompt, Record, Say
from callflows.config import FlowConfig, Language

SPEECH_TIMEOUT = "auto"  # end speech input at the caller's natural pause
RECORD_SILENCE_TIMEOUT = 5  # seconds of silence that end a recording
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY_RESPONSE = _DECLARATION + "<Response />"  # the answer to a status or recording callback


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    text = _text(text).replace('"', "&quot;")
    return text.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _verb(name: str, content: str = "", **attributes: object) -> str:
    """`<name a="…">content</name>`, or `<name a="…" />` when empty; None attributes are left out."""
    pairs = "".join(
        f' {key}="{_attribute(value)}"' for key, value in sorted(attributes.items()) if value is not None
    )
    return f"<{name}{pairs}>{content}</{name}>" if content else f"<{name}{pairs} />"


def _language(config: FlowConfig, code: str) -> Language:
    return config.languages.get(code) or config.languages[config.default_language]


def _prompt(config: FlowConfig, prompt: Prompt) -> str:
    if isinstance(prompt, Say):
        language = _language(config, prompt.language)
        return _verb("Say", _text(prompt.text), voice=language.voice, language=language.locale)
    return _verb("Pause", length=max(1, prompt.seconds))


def _gather(action: Gather, config: FlowConfig, url: str) -> str:
    speech = "speech" in action.input_modes
    prompts = "".join(_prompt(config, prompt) for prompt in action.prompts)
    return _verb(
        "Gather",
        prompts,
        input=" ".join(action.input_modes),
        action=url,
        method="POST",
        timeout=action.timeout,
        numDigits=action.num_digits,
        finishOnKey=action.finish_on_key,
        actionOnEmptyResult=True,
        language=_language(config, action.language).locale if speech else None,
        hints=",".join(action.hints) if action.hints and speech else None,
        speechTimeout=SPEECH_TIMEOUT if speech else None,
    )


def _record(action: Record, config: FlowConfig, url: str, recording_callback_url: str) -> str:
    prompts = "".join(_prompt(config, prompt) for prompt in action.prompts)  # <Record> cannot nest verbs
    return prompts + _verb(
        "Record",
        action=url,
        method="POST",
        maxLength=action.max_length,
        finishOnKey=action.finish_on_key,
        playBeep=action.play_beep,
        timeout=RECORD_SILENCE_TIMEOUT,
        recordingStatusCallback=recording_callback_url,
        recordingStatusCallbackMethod="POST",
        recordingStatusCallbackEvent="completed",
    )


def render(
    actions: Iterable[Action],
    config: FlowConfig,
    step_url: Callable[[str, str], str],
    recording_callback_url: str,
) -> str:
    """TwiML for `actions`; `step_url(step, language)` gives the absolute action URL of a step."""
    verbs: list[str] = []
    for action in actions:
        if isinstance(action, Say | Pause):
            verbs.append(_prompt(config, action))
        elif isinstance(action, Gather | Record):
            url = step_url(action.step, action.language)
            if isinstance(action, Gather):
                verbs.append(_gather(action, config, url))
            else:
                verbs.append(_record(action, config, url, recording_callback_url))
            verbs.append(_verb("Redirect", _text(url), method="POST"))  # when the verb posted no action
        elif isinstance(action, Hangup):
            verbs.append(_verb("Hangup"))
        else:  # pragma: no cover - the Action union is closed
            raise TypeError(f"cannot render {action!r}")
    return _DECLARATION + _verb("Response", "".join(verbs))
