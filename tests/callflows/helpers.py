"""Small readers over a Turn, so tests talk about what the caller hears."""

from __future__ import annotations

import json

from callflows.call_actions import Action, Gather, Pause, Record, Say
from callflows.flow import Reply, Turn, respond
from callflows.flow_config import FlowConfig
from callflows.state import CallState


def spoken(actions: tuple[Action, ...]) -> str:
    """Everything said, in order, nested prompts included."""
    parts: list[str] = []
    for action in actions:
        if isinstance(action, Say):
            parts.append(action.text)
        elif isinstance(action, Gather | Record):
            parts.extend(p.text for p in action.prompts if isinstance(p, Say))
    return " ".join(parts)


def listening(turn: Turn) -> Gather | Record:
    """The Gather or Record that ends an unfinished turn; it must answer the state's step."""
    assert not turn.state.finished
    last = turn.actions[-1]
    assert isinstance(last, Gather | Record)
    assert last.step == turn.state.step
    assert all(isinstance(p, Say | Pause) for p in last.prompts)
    return last


def through_json(state: CallState) -> CallState:
    """What ivr does between two webhooks: save to the database as JSON, load again."""
    return CallState.from_dict(json.loads(json.dumps(state.to_dict(), ensure_ascii=False)))


def answer(config: FlowConfig, turn: Turn, **reply: object) -> Turn:
    """Answer the question asked in `turn`, with the state saved and loaded in between."""
    step = turn.state.step
    loaded = through_json(turn.state)
    assert loaded == turn.state
    return respond(config, loaded, step, Reply(**reply))  # type: ignore[arg-type]
