"""The Twilio REST side of the hotline: outbound calls (click-to-call), recordings (play, delete), SMS.

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
import re
import threading
import wave
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from tickets.clock import now as clock_now
from tickets.recordings import ACCOUNT_SID, is_recording_sid
from tickets.telephony import Telephony, TelephonyError, mask_phone

log = logging.getLogger(__name__)

# The recording proxy sends the account's credentials to this host only, on a URL it builds itself.
TWILIO_API = "https://api.twilio.com/2010-04-01"
# Twilio may answer a media request with a redirect to a short-lived media URL; these are the hosts Twilio
# documents for those ("Protect Media Access with HTTP Basic Authentication": mms.twiliocdn.com). Such a
# redirect is followed without credentials; one to any other place fails the play (and logs the host).
MEDIA_REDIRECT_HOSTS = frozenset({"mms.twiliocdn.com"})
MAX_MEDIA_REDIRECTS = 3
# Characters that parsers disagree about (`\` is a path separator to a browser and to urllib3's
# authority rule, not to urlsplit), or that have no business in a URL at all.
_AMBIGUOUS_URL = re.compile(r"[\x00-\x20\x7f\\]")
_AUDIO_TYPE = re.compile(r"audio/[a-z0-9][a-z0-9.+-]*")
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
    deleted_recordings: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    # Its recordings are a second of silence: the console says so rather than play it as the caller's voice.
    plays_real_recordings = False
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

    def fetch_recording(self, recording_sid: str) -> tuple[bytes, str]:
        if not is_recording_sid(recording_sid):
            raise TelephonyError("not a Twilio recording SID")  # as the real gateway: callers pass a SID
        log.info("console recording %s: one second of silence", recording_sid)
        return silence_wav(), "audio/wav"

    def delete_recording(self, recording_sid: str) -> None:
        if not is_recording_sid(recording_sid):
            raise TelephonyError("not a Twilio recording SID")
        log.info("console recording %s deleted", recording_sid)
        if recording_sid not in self.deleted_recordings:
            self.deleted_recordings.append(recording_sid)

    def recording_exists(self, recording_sid: str) -> bool:
        return recording_sid not in self.deleted_recordings

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
        if not ACCOUNT_SID.fullmatch(account_sid):
            # it goes into the media URL's path: a malformed one could point it elsewhere on the host
            raise ValueError("TWILIO_ACCOUNT_SID is not an account SID (AC and 32 hex digits)")
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

    def fetch_recording(self, recording_sid: str) -> tuple[bytes, str]:
        """The recording's MP3 from the account's own media URL, built here from the SID: the only URL
        that ever gets the credentials. Redirects are followed to Twilio's media hosts only."""
        if not is_recording_sid(recording_sid):
            raise TelephonyError("not a Twilio recording SID")
        # Without an extension Twilio answers WAV; MP3 is a tenth of the size and every browser plays it.
        url = f"{TWILIO_API}/Accounts/{self.account_sid}/Recordings/{recording_sid}.mp3"
        response = self._get(url, auth=(self.account_sid, self._auth_token))
        for _ in range(MAX_MEDIA_REDIRECTS):
            if not response.is_redirect:
                break
            url = _media_redirect(url, response.headers.get("Location", ""))
            response = self._get(url, auth=None)
        if response.status_code != 200:
            raise TelephonyError(f"녹음을 가져오지 못했습니다 (HTTP {response.status_code})")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not _AUDIO_TYPE.fullmatch(content_type):
            # served from the hotline's origin, anything but audio could run as a page of the app
            log.warning("recording %s: Twilio answered %r, not audio; refused", recording_sid, content_type)
            raise TelephonyError("녹음을 가져오지 못했습니다 (오디오가 아닌 응답)")
        return response.content, content_type

    def _get(self, url: str, auth: tuple[str, str] | None) -> requests.Response:
        try:
            # redirects by hand (_media_redirect): requests would follow them anywhere
            return self.media.get(url, auth=auth, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as error:
            raise TelephonyError(f"녹음을 가져오지 못했습니다 ({type(error).__name__})") from None

    def delete_recording(self, recording_sid: str) -> None:
        """DELETE the recording resource through the REST client. A 404 means it is gone already (an
        earlier try that went through, or deleted by hand in Twilio's console): that is the outcome wanted."""
        if not is_recording_sid(recording_sid):
            raise TelephonyError("not a Twilio recording SID")  # it goes into the resource's path
        try:
            self.client.recordings(recording_sid).delete()
        except TwilioRestException as error:
            if error.status != 404:
                raise TelephonyError(f"녹음을 삭제하지 못했습니다 (Twilio: {_short(error)})") from None
        except TwilioException as error:
            raise TelephonyError(f"녹음을 삭제하지 못했습니다 (Twilio: {_short(error)})") from None
        log.info("Twilio recording %s deleted", recording_sid)

    def recording_exists(self, recording_sid: str) -> bool:
        if not is_recording_sid(recording_sid):
            raise TelephonyError("not a Twilio recording SID")
        try:
            self.client.recordings(recording_sid).fetch()
        except TwilioRestException as error:
            if error.status == 404:
                return False
            raise TelephonyError(f"녹음을 확인하지 못했습니다 (Twilio: {_short(error)})") from None
        except TwilioException as error:
            raise TelephonyError(f"녹음을 확인하지 못했습니다 (Twilio: {_short(error)})") from None
        return True

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


def _media_redirect(current: str, location: str) -> str:
    """Where a media redirect may go: https on a documented Twilio media host, default port, no
    userinfo. Returns the URL rebuilt from the parts checked, so what is fetched is what was checked."""
    try:
        parts = urlsplit(urljoin(current, location))
    except ValueError:  # an unparseable address, such as a broken IPv6 literal
        parts = urlsplit("")
    if (
        not location
        or _AMBIGUOUS_URL.search(location)
        or parts.scheme != "https"
        or parts.hostname not in MEDIA_REDIRECT_HOSTS
        or parts.netloc.lower() != parts.hostname  # no user:password@, no :port
    ):
        log.warning("recording redirect to %r refused", parts.hostname)
        raise TelephonyError("녹음을 가져오지 못했습니다 (허용되지 않은 주소로 재전송)")
    return urlunsplit(("https", parts.hostname, parts.path or "/", parts.query, ""))


def _short(error: Exception) -> str:
    return str(getattr(error, "msg", None) or error).splitlines()[0][:200]


def make_telephony(config: Any) -> Telephony:
    """The real gateway when the Twilio credentials are set, else the console one."""
    if config.twilio_account_sid and config.twilio_auth_token:
        return TwilioTelephony(
            config.twilio_account_sid, config.twilio_auth_token, config.flow.hotline_number
        )
    return ConsoleTelephony()
