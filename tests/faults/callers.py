"""Many whole calls at once against a running hotline, each played by ivr.simulator as Twilio would.

Twilio's side, as far as a caller can tell: every request is signed (the simulator signs with twilio's
RequestValidator); a request that takes longer than 15 s, is refused or answers 5xx ends the call with
Twilio's generic error (the caller hears "an application error has occurred" and is cut off); the status
callback (`/ivr/status`, CallStatus=completed) is sent when the call ends whatever happened.

The person on the phone answers every question the same way each time it is asked (a restarted flow is
answered again), leaves a message when asked for one, and takes `think` seconds over each answer: the
pace parameter (a real caller needs about 90 s for a whole call).
"""

from __future__ import annotations

import random
import threading
import time
import urllib.error
from dataclasses import dataclass
from urllib.parse import urlsplit

from ivr.signature import DEVELOPMENT_AUTH_TOKEN
from ivr.simulator import Answer, CallResult, CallSimulator, HttpTransport, Reply

TWILIO_TIMEOUT = 15.0  # seconds Twilio waits for a webhook's answer
TWILIO_ERROR = "twilio: an application error has occurred"
APOLOGY_STEP = "fallback_message"  # the apology's <Record> (callflows.flow.apology)


@dataclass(frozen=True)
class Pace:
    """How callers arrive and how long they take: `calls` callers starting evenly over `stagger`
    seconds, each taking `think` (low, high) seconds over every answer."""

    calls: int = 40
    stagger: float = 12.0
    think: tuple[float, float] = (4.0, 6.0)


class TwilioTransport(HttpTransport):
    """HTTP as Twilio does it: what Twilio cannot use becomes its generic error, and is counted."""

    def __init__(self) -> None:
        super().__init__(timeout=TWILIO_TIMEOUT)
        self.timeouts = 0
        self.errors = 0  # refused, reset or 5xx

    def post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> Reply:
        try:
            reply = super().post(url, form, headers)
        except (TimeoutError, urllib.error.URLError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                self.timeouts += 1
                return Reply(504, f"{TWILIO_ERROR} (11205: no answer in {TWILIO_TIMEOUT:g} s)", "text/plain")
            self.errors += 1
            return Reply(502, f"{TWILIO_ERROR} (11205: {reason})", "text/plain")
        if reply.status >= 500:
            self.errors += 1
        return reply


class PacedCaller:
    """Always the same answer to the same question, after thinking it over; hangs up instead of
    answering a `patience`-th question (a flow that keeps asking, or apologising, loses its caller)."""

    def __init__(
        self, answers: dict[str, str], think: tuple[float, float], rng: random.Random, patience: int = 10
    ) -> None:
        self.answers = {step: Answer.parse(text) for step, text in answers.items()}
        self.think = think
        self.rng = rng
        self.patience = patience
        self.asked = 0

    def answer(self, step: str, heard: list[str], recording: bool) -> Answer:
        self.asked += 1
        if self.asked >= self.patience:
            return Answer(hang_up=True)
        time.sleep(self.rng.uniform(*self.think))
        return self.answers.get(step, Answer())


@dataclass
class PlacedCall:
    """One call as the caller and Twilio lived it."""

    call_sid: str
    from_number: str
    result: CallResult
    transport: TwilioTransport

    @property
    def recordings(self) -> set[str]:
        """Every recording Twilio posted to the hotline (actions and callbacks), answered or not."""
        return {e.form["RecordingUrl"] for e in self.result.exchanges if "RecordingUrl" in e.form}

    @property
    def apologies(self) -> int:
        return self.result.steps.count(APOLOGY_STEP)

    def last_answered(self) -> str:
        """The last request the hotline answered 200, as 'path (step)', for the report."""
        for exchange in reversed(self.result.exchanges):
            if exchange.reply.status == 200:
                return urlsplit(exchange.url).path
        return "nothing"


def place_calls(base_url: str, pace: Pace, seed: int = 1379) -> list[PlacedCall]:
    """`pace.calls` whole calls, each in its own thread, from distinct mobile numbers (no repeat-call
    linking), spread over the six fields. Returns when every call has ended."""
    rng = random.Random(seed)
    placed: list[PlacedCall] = []
    threads = []
    for index in range(pace.calls):
        transport = TwilioTransport()
        answers = {
            "field": str(index % 6 + 1),
            "support_type": "1",
            "callback": "1",  # this number
            "message": "record:40",
            APOLOGY_STEP: "record:30",
        }
        caller = PacedCaller(answers, pace.think, random.Random(rng.random()))
        number = f"+82109{index:03d}{rng.randrange(10_000):04d}"
        simulator = CallSimulator(transport, base_url, DEVELOPMENT_AUTH_TOKEN, caller, from_number=number)
        call = PlacedCall(simulator.call_sid, number, simulator.result, transport)
        placed.append(call)
        delay = pace.stagger * index / max(1, pace.calls - 1)
        threads.append(threading.Thread(target=_call_after, args=(delay, simulator), daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return placed


def _call_after(delay: float, simulator: CallSimulator) -> None:
    time.sleep(delay)
    try:
        simulator.run()
    except Exception as error:  # a harness bug must show in the table, not vanish with the thread
        simulator.result.ended_by = f"simulator error: {error!r}"
