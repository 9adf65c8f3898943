"""What the caller is asked at each step: one Gather or Record per step.

Kept apart from the transitions in `flow` so that re-asking a question (after an error, a stale
request or a language switch) always produces exactly the same menu.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from callflows import prompts, speech
from callflows.call_actions import Gather, Prompt, Record
from callflows.flow_config import FlowConfig, MenuOption
from callflows.phones import callable_number, speak_number
from callflows.state import GENERAL_FIELD, CallState

# "0 = not sure" is not in the config; as an option it can also be picked by speech ("잘 모르겠어요").
GENERAL_OPTION = MenuOption(
    key=GENERAL_FIELD,
    digit="0",
    names={"ko": "일반 상담", "en": "general"},
    hints=("모르겠", "잘 모름", "모름", "not sure", "don't know", "no idea"),
)

LANGUAGE_SWITCH_DIGIT = "9"
_YES_NO_HINTS = ("네", "예", "아니요", "다른 번호", "yes", "no", "another number")


@lru_cache(maxsize=64)  # a handful of menus, asked at most steps of every call
def _hints(options: tuple[MenuOption, ...], *extra: str) -> tuple[str, ...]:
    hints: dict[str, str] = {}
    for term in [*(t for o in options for t in speech.option_terms(o)), *extra]:
        hints.setdefault(term.casefold(), term)  # "Energy" and "energy" are one hint
    return tuple(hints.values())


def _choice(
    step: str, prompts_: tuple[Prompt, ...], state: CallState, config: FlowConfig, hints: tuple[str, ...]
) -> Gather:
    """A one-key menu that also listens for speech; one key press answers at once."""
    return Gather(
        step,
        prompts_,
        state.language,
        input_modes=("dtmf", "speech"),
        num_digits=1,
        finish_on_key="",
        timeout=config.gather_timeout_seconds,
        hints=hints,
    )


def ask(
    config: FlowConfig, state: CallState, lead: tuple[Prompt, ...] = ()
) -> tuple[CallState, Gather | Record]:
    """The question for `state.step`, preceded by `lead` (a confirmation or what went wrong).

    Returns the state too: a step whose precondition is missing (no callable caller ID at
    `callback`, no number at `callback_confirm`) asks for the number instead.
    """
    language = state.language
    if state.step == "field":
        hints = _hints((*config.fields, GENERAL_OPTION), "English", "영어", "Korean", "한국어")
        return state, _choice("field", lead + prompts.field_menu(config, language), state, config, hints)
    if state.step == "repeat_choice":
        said = (
            prompts.say_configured(config, "repeat_notice", language),
            prompts.say("repeat_question", language),
        )
        return state, _choice("repeat_choice", (*lead, *said), state, config, _YES_NO_HINTS)
    if state.step == "support_type":
        menu = lead + prompts.support_menu(config, language)
        return state, _choice("support_type", menu, state, config, _hints(config.support_types))
    if state.step == "callback":
        caller = callable_number(state.caller_number)
        if caller is None:
            return ask(config, state.at("callback_number"), lead)
        question = prompts.say("callback_question", language, number=speak_number(caller, language))
        return state, _choice("callback", (*lead, question), state, config, _YES_NO_HINTS)
    if state.step == "callback_confirm":
        if state.callback_number is None:
            return ask(config, replace(state.at("callback_number"), callback_source=None), lead)
        number = speak_number(state.callback_number, language)
        question = prompts.say("callback_confirm_question", language, number=number)
        return state, _choice("callback_confirm", (*lead, question), state, config, _YES_NO_HINTS)
    if state.step == "callback_number":
        return state, Gather(
            "callback_number",
            (*lead, prompts.say("callback_number_question", language)),
            language,
            input_modes=("dtmf",),
            num_digits=None,
            finish_on_key="#",
            timeout=config.gather_timeout_seconds,
        )
    # message: the last step
    limit = prompts.recording_limit(config.recording_max_seconds, language)
    # the notice once per call, before the first beep; asking again after an empty recording skips it
    notice = () if state.failures else (prompts.say_configured(config, "recording_notice", language),)
    return state, Record(
        "message",
        (*lead, *notice, prompts.say("message_question", language, limit=limit)),
        language,
        max_length=config.recording_max_seconds,
    )
