"""The Twilio REST side of the hotline: outbound calls (click-to-call), recordings, SMS.

Two implementations of `tickets.telephony.Telephony`:
- `ConsoleTelephony` for development and tests: logs what it would do (numbers masked) and keeps it in
  memory (`calls`, `messages`), so the local simulator or a test can "answer" a placed call by requesting
  its TwiML URL. Recordings come back as a short silence, so the console's player works offline.
- `TwilioTelephony` over `twilio.rest.Client` (tests give it a fake `twilio.http.HttpClient`).
`make_telephony(config)` picks the real one when TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set.
"""

from __future__ import annotations

import io
import itertools
import logging
import threading
import wave
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from tickets.clock import now as clock_now
from tickets.telephony import Telephony, TelephonyError, mask_phone

log = logging.getLogger(__name__)

# Twilio serves recordings from api.twilio.com; the proxy refuses anything else so a stored URL can
# never make the app fetch an arbitrary address with the account's credentials.
RECORDING_HOSTS = ("api.twilio.com",)
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
# Twilio's message statuses for a text that did not and will not reach the phone.
SMS_NOT_SENT = ("failed", "undelivered", "canceled")


@dataclass
class PlacedCall:
    sid: str
    to: str
    url: str
    status_callback: str
    caller_id: str


@dataclass
class SentMessage:
    sid: str
    to: str
    body: str
    at: datetime = field(default_factory=clock_now)


@dataclass
class ConsoleTelephony:
    """No telephone at all: log, remember, and let someone else play the other end."""

    calls: list[PlacedCall] = field(default_factory=list)
    messages: list[SentMessage] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _sid(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}console{next(self._ids):026d}"

    def start_call(self, to: str, url: str, status_callback: str, caller_id: str) -> str:
        call = PlacedCall(self._sid("CA"), to, url, status_callback, caller_id)
        self.calls.append(call)
        log.info(
            "console call %s to %s: answer it by POSTing CallSid=%s to %s (status callback %s)",
            call.sid,
            mask_phone(to),
            call.sid,
            url,
            status_callback,
        )
        return call.sid

    def fetch_recording(self, url: str) -> tuple[bytes, str]:
        log.info("console recording for %s: one second of silence", url)
        return silence_wav(), "audio/wav"

    def send_sms(self, to: str, body: str) -> str:
        message = SentMessage(self._sid("SM"), to, body)
        self.messages.append(message)
        log.info("console SMS %s to %s: %s", message.sid, mask_phone(to), body)
        return message.sid

    def sms_sent_since(self, to: str, since: datetime) -> list[str]:
        return [message.body for message in self.messages if message.to == to and message.at >= since]


def silence_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(rate * seconds))
    return buffer.getvalue()


class TwilioTelephony:
    """The real thing. `http_client` and `media_session` are for tests (fakes) and proxies."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        http_client: HttpClient | None = None,
        media_session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        # twilio's own HTTP client waits forever by default: a hung API would hold every SMS behind it.
        http_client = http_client or TwilioHttpClient(timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.from_number = from_number
        self.media = media_session or requests.Session()
        self.timeout = timeout

    def start_call(self, to: str, url: str, status_callback: str, caller_id: str) -> str:
        try:
            call = self.client.calls.create(
                to=to,
                from_=caller_id,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=CALL_EVENTS,
            )
        except TwilioException as error:
            log.warning("Twilio refused a call to %s: %s", mask_phone(to), error)
            raise TelephonyError(f"전화 연결을 시작하지 못했습니다 (Twilio: {_short(error)})") from None
        log.info("Twilio call %s to %s", call.sid, mask_phone(to))
        return str(call.sid)

    def fetch_recording(self, url: str) -> tuple[bytes, str]:
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname not in RECORDING_HOSTS:
            raise TelephonyError("not a Twilio recording URL")
        # Without an extension Twilio answers WAV; MP3 is a tenth of the size and every browser plays it.
        media_url = url if parts.path.endswith((".mp3", ".wav")) else url + ".mp3"
        try:
            response = self.media.get(
                media_url, auth=(self.account_sid, self._auth_token), timeout=self.timeout
            )
        except requests.RequestException as error:
            raise TelephonyError(f"녹음을 가져오지 못했습니다 ({type(error).__name__})") from None
        if response.status_code != 200:
            raise TelephonyError(f"녹음을 가져오지 못했습니다 (HTTP {response.status_code})")
        return response.content, response.headers.get("Content-Type", "audio/mpeg")

    def send_sms(self, to: str, body: str) -> str:
        try:
            message = self.client.messages.create(to=to, from_=self.from_number, body=body)
        except TwilioException as error:
            log.warning("Twilio refused an SMS to %s: %s", mask_phone(to), error)
            raise TelephonyError(f"문자를 보내지 못했습니다 (Twilio: {_short(error)})") from None
        log.info("Twilio SMS %s to %s", message.sid, mask_phone(to))
        return str(message.sid)

    def sms_sent_since(self, to: str, since: datetime) -> list[str]:
        """The texts Twilio sent (or still will) from the hotline's number to `to` since `since`. Twilio
        filters by day only, so the time is checked here."""
        try:
            messages = self.client.messages.list(
                to=to, from_=self.from_number, date_sent_after=since, limit=100
            )
        except TwilioException as error:
            raise TelephonyError(f"문자 발송 기록을 확인하지 못했습니다 (Twilio: {_short(error)})") from None
        return [
            message.body or ""
            for message in messages
            if message.status not in SMS_NOT_SENT
            and (message.date_sent or message.date_created or since) >= since
        ]


def _short(error: Exception) -> str:
    return str(getattr(error, "msg", None) or error).splitlines()[0][:200]


def make_telephony(config: Any) -> Telephony:
    """The real gateway when the Twilio credentials are set, else the console one."""
    if config.twilio_account_sid and config.twilio_auth_token:
        return TwilioTelephony(
            config.twilio_account_sid, config.twilio_auth_token, config.flow.hotline_number
        )
    return ConsoleTelephony()
