"""A phone call without Twilio: follows our TwiML the way Twilio does and signs every request.

Verbs: Say, Play, Pause, Gather (input, numDigits, finishOnKey, timeout, actionOnEmptyResult, nested
prompts), Record (action, the recordingStatusCallback, Twilio skipping the action when nothing was
recorded), Redirect, Hangup, Reject; relative and absolute URLs; the end of a document hangs up. When
the call ends the status callback is posted, as the Voice status callback URL of a number is.

`Caller` decides what the person on the phone does at each `<Gather>`/`<Record>`: `ScriptedCaller`
for tests and `hotline call --script`, a prompt on the terminal for `hotline call`. `hotline call`
and the tests share this engine, so what the tests prove is what the command shows.
"""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

MAX_REQUESTS = 200  # a flow that loops forever is a bug the simulator must report, not follow
ACCOUNT_SID = "AC" + "0" * 32
RECORDINGS_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings"


# --- what the caller does ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """Keys, speech, a recording of `seconds`, silence (all None/0) or hanging up."""

    digits: str | None = None
    speech: str | None = None
    seconds: int = 0  # for a <Record>
    hang_up: bool = False

    @classmethod
    def parse(cls, text: str) -> Answer:
        """ "2", "01012345678#", "say:바이오 분야요", "record", "record:45", "record:45:hangup" (hangs up
        instead of pressing #), "silence", "hangup"."""
        text = text.strip()
        if text in ("", "silence", "-"):
            return cls()
        if text == "hangup":
            return cls(hang_up=True)
        if text.startswith("say:"):
            return cls(speech=text[4:].strip())
        if text.startswith("record"):
            _, _, rest = text.partition(":")
            seconds, _, then = rest.partition(":")
            return cls(seconds=int(seconds) if seconds else 20, hang_up=then == "hangup")
        return cls(digits=text)

    def describe(self) -> str:
        if self.hang_up:
            return f"speaks for {self.seconds} s, then hangs up" if self.seconds else "hangs up"
        if self.speech:
            return f'says "{self.speech}"'
        if self.seconds:
            return f"speaks for {self.seconds} s"
        if self.digits:
            return f"presses {self.digits}"
        return "stays silent"


class Caller(Protocol):
    def answer(self, step: str, heard: list[str], recording: bool) -> Answer: ...


class ScriptedCaller:
    """Answers from a script like "field=2,support_type=1,callback=1,message=record".

    A step named more than once is answered in order ("field=7,field=2": a wrong key, then 2). A
    step with no answer left gets `otherwise` (silence, as a caller who says nothing).
    """

    def __init__(self, script: str | Iterable[tuple[str, str]], otherwise: str = "silence") -> None:
        pairs = parse_script(script) if isinstance(script, str) else list(script)
        self.answers: dict[str, list[Answer]] = {}
        for step, value in pairs:
            self.answers.setdefault(step, []).append(Answer.parse(value))
        self.otherwise = Answer.parse(otherwise)

    def answer(self, step: str, heard: list[str], recording: bool) -> Answer:
        queue = self.answers.get(step)
        return queue.pop(0) if queue else self.otherwise


def parse_script(script: str) -> list[tuple[str, str]]:
    pairs = []
    for item in (part.strip() for part in script.split(",")):
        if not item:
            continue
        step, separator, value = item.partition("=")
        if not separator or not step.strip():
            raise ValueError(f"script: expected step=answer, got {item!r}")
        pairs.append((step.strip(), value.strip()))
    return pairs


# --- how requests reach the app ------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    content_type: str


class Transport(Protocol):
    def post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> Reply: ...


class HttpTransport:
    """A running server (`hotline call --url`)."""

    def __init__(self, timeout: float = 15.0) -> None:
        self.timeout = timeout

    def post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> Reply:
        data = urlencode(form).encode()
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read().decode("utf-8")
                return Reply(response.status, body, response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", "replace")
            return Reply(error.code, body, error.headers.get("Content-Type", ""))


class FlaskTransport:
    """The app in this process, through its test client. `proxy_to` plays a reverse proxy: the
    request reaches the app on that internal origin while the URL Twilio signed stays public."""

    def __init__(self, app: Any, proxy_to: str | None = None) -> None:
        self.client = app.test_client()
        self.proxy_to = proxy_to

    def post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> Reply:
        parts = urlsplit(url)
        base = self.proxy_to or f"{parts.scheme}://{parts.netloc}"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.post(path, data=form, headers=headers, base_url=base)
        return Reply(response.status_code, response.get_data(as_text=True), response.content_type or "")


# --- the call --------------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One webhook request and its answer, for tests and for --verbose."""

    url: str
    form: dict[str, str]
    reply: Reply


@dataclass
class CallResult:
    call_sid: str
    heard: list[str] = field(default_factory=list)  # everything said, in order
    steps: list[str] = field(default_factory=list)  # each <Gather>/<Record> met, by step name
    exchanges: list[Exchange] = field(default_factory=list)
    ended_by: str = ""  # "hangup" (our TwiML), "caller", "end of document", "error: …"

    @property
    def transcript(self) -> str:
        return "\n".join(self.heard)


class CallError(RuntimeError):
    """The app answered something Twilio would not accept (not 200, not TwiML)."""


class CallSimulator:
    def __init__(
        self,
        transport: Transport,
        base_url: str,
        token: str,
        caller: Caller,
        *,
        from_number: str = "+821012345678",
        to_number: str = "+827040001379",
        call_sid: str | None = None,
        recording_callback_first: bool = False,
        show: Callable[[str], None] | None = None,
    ) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.validator = RequestValidator(token)
        self.caller = caller
        self.from_number, self.to_number = from_number, to_number
        self.call_sid = call_sid or "CA" + secrets.token_hex(16)
        self.recording_callback_first = recording_callback_first
        self.show = show or (lambda _line: None)
        self.result = CallResult(self.call_sid)
        self.seconds = 0  # simulated call length, for CallDuration
        self._pending_recording_callback: tuple[str, dict[str, str]] | None = None
        self._hung_up_while_recording = False

    # requests ------------------------------------------------------------------------------------

    def _params(self, **extra: str) -> dict[str, str]:
        return {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": self.call_sid,
            "From": self.from_number,
            "To": self.to_number,
            "Direction": "inbound",
            "CallStatus": "in-progress",
            **extra,
        }

    def post(self, url: str, form: dict[str, str]) -> Reply:
        """A signed POST, exactly as Twilio signs it: the URL as written plus the sorted parameters."""
        if len(self.result.exchanges) >= MAX_REQUESTS:
            raise CallError(f"more than {MAX_REQUESTS} requests: the flow is looping")
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, form)}
        reply = self.transport.post(url, form, headers)
        self.result.exchanges.append(Exchange(url, form, reply))
        return reply

    def _document(self, url: str, form: dict[str, str]) -> ET.Element:
        reply = self.post(url, form)
        if reply.status != 200:
            raise CallError(f"{url} answered {reply.status}: {reply.body[:200]}")
        if not reply.content_type.startswith(("text/xml", "application/xml")):
            raise CallError(f"{url} answered {reply.content_type!r}, not TwiML")
        try:
            root = ET.fromstring(reply.body)
        except ET.ParseError as error:
            raise CallError(f"{url} answered malformed XML: {error}") from None
        if root.tag != "Response":
            raise CallError(f"{url} answered <{root.tag}>, not <Response>")
        return root

    # the call ------------------------------------------------------------------------------------

    def run(self) -> CallResult:
        url = f"{self.base_url}/ivr/voice"
        form = self._params(CallStatus="ringing")
        try:
            while True:
                document = self._document(url, form)
                self._send_pending_recording_callback()
                if self._hung_up_while_recording:
                    self.result.ended_by = "caller"  # Twilio posted the action; its answer goes unheard
                    break
                following = self._follow(document, url)
                if following is None:
                    break
                url, form = following
            self._send_pending_recording_callback()  # a hang-up while recording: the action came last
        except CallError as error:
            self.result.ended_by = f"error: {error}"
            self.show(f"!! {error}")
        self._status_callback()
        return self.result

    def _status_callback(self) -> None:
        form = self._params(CallStatus="completed", CallDuration=str(self.seconds))
        reply = self.post(f"{self.base_url}/ivr/status", form)
        if reply.status != 200:
            self.show(f"!! status callback answered {reply.status}")

    def _follow(self, document: ET.Element, url: str) -> tuple[str, dict[str, str]] | None:
        """Run the verbs of one document; the next request, or None when the call is over."""
        for verb in document:
            if verb.tag in ("Say", "Play", "Pause"):
                self._hear(verb)
            elif verb.tag == "Gather":
                following = self._gather(verb, url)
                if isinstance(following, str):  # the caller hung up
                    return None
                if following is not None:
                    return following
            elif verb.tag == "Record":
                following = self._record(verb, url)
                if isinstance(following, str):  # the caller hung up
                    return None
                if following is not None:
                    return following
            elif verb.tag == "Redirect":
                target = urljoin(url, (verb.text or "").strip()) if (verb.text or "").strip() else url
                return target, self._params()
            elif verb.tag in ("Hangup", "Reject"):
                self.result.ended_by = "hangup"
                self.show("-- the hotline hangs up")
                return None
            else:
                raise CallError(f"unsupported verb <{verb.tag}>")
        self.result.ended_by = "end of document"
        self.show("-- end of TwiML: Twilio hangs up")
        return None

    def _hear(self, verb: ET.Element) -> None:
        if verb.tag == "Say":
            text = (verb.text or "").strip()
            language = verb.get("language", "")
            self.result.heard.append(text)
            self.seconds += max(1, len(text) // 8)
            self.show(f"1379 [{language}] {text}")
        elif verb.tag == "Play":
            self.result.heard.append(f"[audio {verb.text}]")
            self.show(f"1379 [plays {verb.text}]")
        elif verb.tag == "Pause":
            seconds = int(verb.get("length", "1"))
            self.seconds += seconds
            self.show(f"     ({seconds} s pause)")

    def _gather(self, verb: ET.Element, url: str) -> tuple[str, dict[str, str]] | str | None:
        action = urljoin(url, verb.get("action") or url)
        step = urlsplit(action).path.rsplit("/", 1)[-1]
        self.result.steps.append(step)
        for child in verb:
            if child.tag in ("Say", "Play", "Pause"):
                self._hear(child)
        modes = (verb.get("input") or "dtmf").split()
        answer = self.caller.answer(step, self.result.heard, recording=False)
        self.show(f"caller {answer.describe()}")
        if answer.hang_up:
            self.result.ended_by = "caller"
            return "hangup"
        form = self._params()
        if answer.digits and "dtmf" in modes:
            digits = answer.digits
            finish = verb.get("finishOnKey", "#")
            if finish and finish in digits:
                digits = digits[: digits.index(finish)]
            limit = verb.get("numDigits")
            if limit:
                digits = digits[: int(limit)]
            if digits or not finish:
                form["Digits"] = digits
        elif answer.speech and "speech" in modes:
            form.update(SpeechResult=answer.speech, Confidence="0.87")
        if "Digits" not in form and "SpeechResult" not in form:
            self.seconds += int(verb.get("timeout", "5"))
            if verb.get("actionOnEmptyResult", "false") != "true":
                return None  # Twilio goes on with the next verb
        return action, form

    def _record(self, verb: ET.Element, url: str) -> tuple[str, dict[str, str]] | str | None:
        action = urljoin(url, verb.get("action") or url)
        step = urlsplit(action).path.rsplit("/", 1)[-1]
        self.result.steps.append(step)
        if verb.get("playBeep", "true") == "true":
            self.show("     (beep)")
        answer = self.caller.answer(step, self.result.heard, recording=True)
        self.show(f"caller {answer.describe()}")
        seconds = min(answer.seconds, int(verb.get("maxLength", "3600")))
        if seconds <= 0:
            if answer.hang_up:
                self.result.ended_by = "caller"
                return "hangup"
            self.seconds += int(verb.get("timeout", "5"))
            return None  # nothing recorded: Twilio skips the action and goes on
        self.seconds += seconds
        recording_sid = "RE" + secrets.token_hex(16)
        recording = {
            "RecordingSid": recording_sid,
            "RecordingUrl": f"{RECORDINGS_URL}/{recording_sid}",
            "RecordingDuration": str(seconds),
        }
        callback = verb.get("recordingStatusCallback")
        if callback and self.recording_callback_first:
            self._recording_callback(urljoin(url, callback), recording)
        finish = verb.get("finishOnKey", "#")[:1]
        self._hung_up_while_recording = answer.hang_up
        form = self._params(**recording, Digits="hangup" if answer.hang_up or not finish else finish)
        if callback and not self.recording_callback_first:
            # Twilio posts the callback once the file is ready, usually just after the action
            self._pending_recording_callback = (urljoin(url, callback), recording)
        return action, form

    def _send_pending_recording_callback(self) -> None:
        if self._pending_recording_callback is not None:
            url, recording = self._pending_recording_callback
            self._pending_recording_callback = None
            self._recording_callback(url, recording)

    def _recording_callback(self, url: str, recording: dict[str, str]) -> None:
        form = {
            "AccountSid": ACCOUNT_SID,
            "CallSid": self.call_sid,
            "RecordingStatus": "completed",
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
            **recording,
        }
        reply = self.post(url, form)
        if reply.status != 200:
            raise CallError(f"recording callback answered {reply.status}")
