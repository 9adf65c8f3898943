"""`hotline call`: the call simulator on a terminal, scripted or answered by the person at the keyboard."""

from __future__ import annotations

import click
from flask import Flask

from ivr.signature import signing_token
from ivr.simulator import Answer, CallSimulator, FlaskTransport, HttpTransport, ScriptedCaller


class TerminalCaller:
    """Asks the person at the keyboard what to do at each question."""

    def answer(self, step: str, heard: list[str], recording: bool) -> Answer:
        hint = "record[:seconds], silence, hangup" if recording else "digits, say:<words>, silence, hangup"
        typed = click.prompt(f"[{step}] your answer ({hint})", default="silence", show_default=False)
        return Answer.parse(typed)


def place_call(
    app: Flask, url: str | None, script: str | None, from_number: str, recording_callback_first: bool
) -> None:
    config = app.config["HOTLINE"]
    try:
        caller = ScriptedCaller(script) if script is not None else TerminalCaller()
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--script") from None
    transport = HttpTransport() if url else FlaskTransport(app)
    base = url or config.public_base_url or "http://localhost"
    simulator = CallSimulator(
        transport,
        base,
        signing_token(config),
        caller,
        from_number=from_number,
        recording_callback_first=recording_callback_first,
        show=click.echo,
    )
    click.echo(f"-- calling {base}/ivr/voice from {from_number} (CallSid {simulator.call_sid})")
    result = simulator.run()
    click.echo(f"-- call ended ({result.ended_by}); {len(result.exchanges)} signed requests")
    if result.ended_by.startswith("error"):
        raise SystemExit(1)
