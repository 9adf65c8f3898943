"""Neutral call actions: what the caller hears and how we listen, without any TwiML.

`ivr` renders these with twilio's VoiceResponse. `language` is the flow language code
("ko"/"en"); ivr maps it to a locale and voice through `FlowConfig.languages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True)
class Say:
    text: str
    language: str


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


Prompt: TypeAlias = Say | Pause


@dataclass(frozen=True)
class Gather:
    """Play `prompts` while listening; the result is posted to the step URL `/ivr/voice/<step>`.

    ivr must also post when nothing was entered (`actionOnEmptyResult`, or a `<Redirect>` to the
    same step URL after the `<Gather>`): the flow counts silence as a failure and says so.
    """

    step: str
    prompts: tuple[Prompt, ...]
    language: str
    input_modes: tuple[str, ...] = ("dtmf",)  # ("dtmf", "speech") or ("dtmf",)
    num_digits: int | None = None
    finish_on_key: str = ""  # "" = no finish key, "#" = digits end with #
    timeout: int = 6
    hints: tuple[str, ...] = ()  # speech recognition hints


@dataclass(frozen=True)
class Record:
    """Say `prompts`, then record; the result is posted to `/ivr/voice/<step>`.

    `<Record>` cannot nest verbs, so ivr renders the prompts as `<Say>`s before it. Twilio skips the
    action URL when the recording is empty: ivr adds a `<Redirect>` to the same step URL after it.
    """

    step: str
    prompts: tuple[Prompt, ...]
    language: str
    max_length: int
    finish_on_key: str = "#"
    play_beep: bool = True


@dataclass(frozen=True)
class Hangup:
    pass


Action: TypeAlias = Say | Pause | Gather | Record | Hangup
