"""The call flow as a pure state machine: (config, state, step, reply) -> (new state, actions).

ivr loads the saved state for the CallSid, calls `respond` with the step from the URL and the
caller's input, saves `turn.state.to_dict()` and renders `turn.actions`. When the new state is
finished the actions are empty: ivr creates the ticket, then renders `farewell(...)`; a missed call
(`state.missed`: silence from the start) finishes with its goodbye and files no request.
Nothing here does I/O, so every path is cheap to test and safe to replay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from callflows import prompts, speech
from callflows.call_actions import Action, Hangup, Prompt, Record, Say
from callflows.flow_config import FlowConfig, MenuOption
from callflows.phones import callable_number, parse_entered_number, speak_digits
from callflows.questions import GENERAL_OPTION, LANGUAGE_SWITCH_DIGIT, ask
from callflows.replies import Reply
from callflows.state import GENERAL_FIELD, OTHER_SUPPORT_TYPE, STEPS, CallState

MESSAGE_ATTEMPTS = 2  # an empty recording is asked for once more, then the call is filed without one


__all__ = ["Reply", "Turn", "UnknownStep", "apology", "farewell", "respond", "restart", "start"]


class UnknownStep(LookupError):
    """A step URL that is not part of the flow (ivr answers 404)."""

    def __init__(self, step: str) -> None:
        super().__init__(f"unknown call-flow step: {step[:40]!r}")
        self.step = step


@dataclass(frozen=True)
class Turn:
    state: CallState
    actions: tuple[Action, ...]


def _turn(config: FlowConfig, state: CallState, lead: tuple[Prompt, ...] = ()) -> Turn:
    asked_state, question = ask(config, state, lead)
    return Turn(asked_state, (question,))


def _language(config: FlowConfig, language: str | None) -> str:
    if language in config.languages and language in ("ko", "en"):
        return language
    return config.default_language if config.default_language in config.languages else "ko"


def start(config: FlowConfig, caller_number: str | None, open_fields: tuple[str, ...] = ()) -> Turn:
    """A new call: the greeting, then the field menu. `open_fields`: the fields in which the caller ID
    has an open ticket (ivr looks them up; a withheld or typed number has none)."""
    language = _language(config, config.default_language)
    state = CallState(language=language, step="field", caller_number=caller_number, open_fields=open_fields)
    return _turn(config, state, (prompts.say_configured(config, "greeting", language),))


def restart(config: FlowConfig, caller_number: str | None, open_fields: tuple[str, ...] = ()) -> Turn:
    """A later step arrived for a call we have no state for: say so, then start over."""
    language = _language(config, config.default_language)
    state = CallState(language=language, step="field", caller_number=caller_number, open_fields=open_fields)
    lead = (prompts.say("restart", language), prompts.say_configured(config, "greeting", language))
    return _turn(config, state, lead)


def respond(config: FlowConfig, state: CallState, step: str, reply: Reply) -> Turn:
    """The caller answered `step`; move the call on, re-ask with the reason, or take a default."""
    if step not in STEPS:
        raise UnknownStep(step)
    if state.finished:
        return Turn(state, ())
    if step != state.step:
        # a retried or out-of-order request: ask the current question again, not the caller's fault
        return _turn(config, state)
    if reply.pressed or reply.said or reply.recording_url:
        state = replace(state, answered=True)
    return _HANDLERS[step](config, state, reply)


# --- answers --------------------------------------------------------------------------------

_NO_INPUT = "no_input"
_INVALID_KEY = "invalid_key"
_NOT_UNDERSTOOD = "not_understood"


def _menu_answer(reply: Reply, options: tuple[MenuOption, ...]) -> tuple[str | None, str | None]:
    """(chosen key, None) or (None, reason) for a one-key menu answered by key or by speech."""
    by_digit = {o.digit: o.key for o in options}
    if reply.pressed:
        key = by_digit.get(reply.pressed)
        return (key, None) if key else (None, _INVALID_KEY)
    if reply.said:
        digit = speech.spoken_number(reply.said)
        if digit is not None:
            key = by_digit.get(digit)
            return (key, None) if key else (None, _INVALID_KEY)
        key = speech.match_option(reply.said, options)
        return (key, None) if key else (None, _NOT_UNDERSTOOD)
    return None, _NO_INPUT


def _yes_no_answer(reply: Reply) -> tuple[bool | None, str | None]:
    """1 / "네" -> True, 2 / "다른 번호" -> False, else (None, reason)."""
    digit = reply.pressed or (speech.spoken_number(reply.said) if reply.said else None)
    if digit:
        if digit in ("1", "2"):
            return digit == "1", None
        return None, _INVALID_KEY
    if reply.said:
        answer = speech.yes_or_no(reply.said)
        return (answer, None) if answer is not None else (None, _NOT_UNDERSTOOD)
    return None, _NO_INPUT


def _fail(config: FlowConfig, state: CallState, reason: str) -> Turn:
    """Count a failed input: say what was wrong (`reason` is a prompt key) and ask again, or take
    the step's default after `max_failures`, so a caller who cannot answer is never stuck."""
    return _fail_saying(config, state, prompts.text(reason, state.language))


def _fail_saying(config: FlowConfig, state: CallState, why: str) -> Turn:
    failures = state.failures + 1
    if failures >= max(1, config.max_failures):
        defaulted = replace(state, failures=failures, defaulted_steps=(*state.defaulted_steps, state.step))
        return _DEFAULTS[state.step](config, defaulted)
    return _turn(config, replace(state, failures=failures), (Say(why, state.language),))


def _wants_other_language(config: FlowConfig, state: CallState, reply: Reply) -> str | None:
    other = "en" if state.language == "ko" else "ko"
    if other not in config.languages or any(o.digit == LANGUAGE_SWITCH_DIGIT for o in config.fields):
        return None
    if reply.pressed:
        return other if reply.pressed == LANGUAGE_SWITCH_DIGIT else None
    if reply.said:
        if (
            speech.spoken_number(reply.said) == LANGUAGE_SWITCH_DIGIT
            or speech.requested_language(reply.said) == other
        ):
            return other
    return None


# --- steps ------------------------------------------------------------------------------------


def _on_field(config: FlowConfig, state: CallState, reply: Reply) -> Turn:
    switch_to = _wants_other_language(config, state, reply)
    if switch_to is not None:
        # straight to the menu in the new language: the caller has just heard the greeting, and every
        # second before the beep counts (the 40 s budget runs from the moment they press 9)
        return _turn(config, replace(state, language=switch_to, failures=0))
    key, reason = _menu_answer(reply, (*config.fields, GENERAL_OPTION))
    if key is None:
        return _fail(config, state, reason or _NO_INPUT)
    return _field_chosen(config, state, key)


def _field_chosen(config: FlowConfig, state: CallState, key: str, lead: tuple[Prompt, ...] = ()) -> Turn:
    language = state.language
    if key == GENERAL_FIELD:
        confirmation = lead or (prompts.say("field_general", language),)
    else:
        name = prompts.field_name(config, key, language)
        confirmation = lead or (prompts.say("field_chosen", language, name=name),)
    chosen = replace(state, field=key)
    if key in state.open_fields:
        return _turn(config, chosen.at("repeat_choice"), confirmation)
    return _turn(config, chosen.at("support_type"), confirmation)


def _on_repeat_choice(config: FlowConfig, state: CallState, reply: Reply) -> Turn:
    """1 (or silence): add a message to the caller's open ticket; 2: a new request of its own."""
    if not reply.pressed and not reply.said:
        return _join_open_ticket(config, state)
    add_message, reason = _yes_no_answer(reply)
    if add_message is None:
        return _fail(config, state, reason or _NO_INPUT)
    if add_message:
        return _join_open_ticket(config, state)
    return _turn(config, state.at("support_type"))


def _join_open_ticket(config: FlowConfig, state: CallState) -> Turn:
    # that ticket has its support type and callback number already: straight to the message
    return _to_message(config, replace(state, joins_open_ticket=True))


def _on_support_type(config: FlowConfig, state: CallState, reply: Reply) -> Turn:
    key, reason = _menu_answer(reply, config.support_types)
    if key is None:
        return _fail(config, state, reason or _NO_INPUT)
    return _to_callback(config, replace(state, support_type=key), ())


def _to_callback(config: FlowConfig, state: CallState, lead: tuple[Prompt, ...]) -> Turn:
    """Offer the caller ID when it can be called back; otherwise ask for a number straight away."""
    next_step = "callback" if callable_number(state.caller_number) else "callback_number"
    return _turn(config, state.at(next_step), lead)


def _on_callback(config: FlowConfig, state: CallState, reply: Reply) -> Turn:
    use_caller_id, reason = _yes_no_answer(reply)
    if use_caller_id is None:
        return _fail(config, state, reason or _NO_INPUT)
    caller = callable_number(state.caller_number)
    if use_caller_id and caller is not None:
        return _to_message(config, replace(state, callback_number=caller, callback_source="caller_id"))
    return _turn(config, replace(state, callback_number=None, callback_source=None).at("callback_number"))


def _on_callback_number(config: FlowConfig, state: CallState, reply: Reply) -> Turn:
    parsed = parse_entered_number(reply.pressed)
    if parsed.e164 is None:
        return _fail_saying(config, state, parsed.message(state.language))
    entered = replace(state, callback_number=parsed.e164, callback_source="entered")
    return _turn(config, entered.at("callback_confirm"))


def _on_callback_confirm(config: FlowConfig, state: CallState, reply: Reply) -> Turn:
    if not reply.pressed and not reply.said:
        return _to_message(config, state)  # silence after hearing the number read back means yes
    correct, reason = _yes_no_answer(reply)
    if correct is None:
        return _fail(config, state, reason or _NO_INPUT)
    if correct:
        return _to_message(config, state)
    return _turn(config, replace(state, callback_number=None, callback_source=None).at("callback_number"))


def _to_message(config: FlowConfig, state: CallState, lead: tuple[Prompt, ...] = ()) -> Turn:
    return _turn(config, state.at("message"), lead)


def _on_message(config: FlowConfig, state: CallState, reply: Reply) -> Turn:
    duration = reply.recording_duration
    if reply.recording_url and (duration is None or duration >= 1):
        recording = {"url": reply.recording_url, "duration": duration}
        return Turn(replace(state, recording=recording, finished=True, failures=0), ())
    failures = state.failures + 1
    if failures >= MESSAGE_ATTEMPTS:
        steps = (*state.defaulted_steps, "message")
        return Turn(
            replace(state, recording=False, finished=True, failures=failures, defaulted_steps=steps), ()
        )
    return _turn(config, replace(state, failures=failures), (prompts.say("message_empty", state.language),))


_HANDLERS: dict[str, Callable[[FlowConfig, CallState, Reply], Turn]] = {
    "field": _on_field,
    "repeat_choice": _on_repeat_choice,
    "support_type": _on_support_type,
    "callback": _on_callback,
    "callback_number": _on_callback_number,
    "callback_confirm": _on_callback_confirm,
    "message": _on_message,
}

# --- defaults after max_failures ----------------------------------------------------------------


def _default_field(config: FlowConfig, state: CallState) -> Turn:
    if not state.answered:
        # silence from the start: a missed call, not a request; the goodbye says they may call again
        missed = replace(state, finished=True, missed=True)
        return Turn(missed, (prompts.say_configured(config, "missed_goodbye", state.language), Hangup()))
    return _field_chosen(config, state, GENERAL_FIELD, (prompts.say("field_default", state.language),))


def _default_support_type(config: FlowConfig, state: CallState) -> Turn:
    lead = (prompts.say("support_default", state.language),)
    return _to_callback(config, replace(state, support_type=OTHER_SUPPORT_TYPE), lead)


def _default_callback(config: FlowConfig, state: CallState) -> Turn:
    caller = callable_number(state.caller_number)
    if caller is None:
        return _turn(config, state.at("callback_number"))
    chosen = replace(state, callback_number=caller, callback_source="caller_id")
    return _to_message(config, chosen, (prompts.say("callback_default", state.language),))


def _default_callback_number(config: FlowConfig, state: CallState) -> Turn:
    cleared = replace(state, callback_number=None, callback_source=None)
    return _to_message(config, cleared, (prompts.say("callback_number_default", state.language),))


def _default_callback_confirm(config: FlowConfig, state: CallState) -> Turn:
    return _to_message(config, state, (prompts.say("callback_confirm_default", state.language),))


_DEFAULTS: dict[str, Callable[[FlowConfig, CallState], Turn]] = {
    "field": _default_field,
    "repeat_choice": _join_open_ticket,
    "support_type": _default_support_type,
    "callback": _default_callback,
    "callback_number": _default_callback_number,
    "callback_confirm": _default_callback_confirm,
}

# --- endings ------------------------------------------------------------------------------------


def farewell(config: FlowConfig, state: CallState, reference: str, sms: bool) -> tuple[Action, ...]:
    """After the ticket is created: the reference twice, slowly, the promise, then hang up."""
    language = _language(config, state.language)
    spoken = speak_digits(reference, language, slow=True)
    has_callback = state.callback_number is not None
    joined = state.joins_open_ticket
    return (*prompts.farewell_prompts(config, language, spoken, sms, has_callback, joined), Hangup())


def apology(config: FlowConfig, language: str) -> tuple[Action, ...]:
    """When the server failed mid-call: apologise and take a message (step `fallback_message`)."""
    language = _language(config, language)
    record = Record(
        "fallback_message",
        (prompts.say("apology", language),),
        language,
        max_length=config.recording_max_seconds,
    )
    return (record, Hangup())
