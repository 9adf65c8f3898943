"""The Twilio gateway over the real twilio.rest.Client, with a fake HTTP client underneath."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from twilio.http import HttpClient
from twilio.http.response import Response

from ivr.gateway import ConsoleTelephony, TwilioTelephony, make_telephony
from tests.conftest import test_config
from tickets.telephony import TelephonyError

SID = "AC" + "0" * 32


class FakeTwilioHttp(HttpClient):
    """Answers the REST API like Twilio would, and remembers every request."""

    def __init__(self, status: int = 201) -> None:
        super().__init__(logging.getLogger("fake-twilio"), is_async=False)
        self.requests: list[dict[str, Any]] = []
        self.status = status

    def request(
        self,
        method: str,
        uri: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.requests.append({"method": method, "uri": uri, "data": data, "auth": auth})
        if self.status >= 400:
            body = {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}
        elif uri.endswith("/Calls.json"):
            body = {"sid": "CA" + "1" * 32, "status": "queued", "to": data["To"], "from": data["From"]}
        else:
            body = {"sid": "SM" + "2" * 32, "status": "queued", "to": data["To"], "body": data["Body"]}
        return Response(self.status, json.dumps(body))


class FakeMedia(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.seen.append(request)
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "audio/mpeg"
        response._content = b"ID3fake-mp3"
        response.request = request
        return response

    def close(self) -> None:
        pass


def gateway(http: FakeTwilioHttp, media: FakeMedia | None = None) -> TwilioTelephony:
    session = requests.Session()
    if media is not None:
        session.mount("https://", media)
    return TwilioTelephony(SID, "secret-token", "+827040001379", http_client=http, media_session=session)


def test_click_to_call_asks_twilio_to_ring_the_consultant_with_our_twiml_and_callback() -> None:
    http = FakeTwilioHttp()
    sid = gateway(http).start_call(
        "+821055550101",
        "https://hotline.example/ivr/outbound/1",
        "https://hotline.example/cb",
        "+827040001379",
    )
    assert sid == "CA" + "1" * 32
    [sent] = http.requests
    assert sent["method"] == "POST" and sent["uri"].endswith(f"/Accounts/{SID}/Calls.json")
    assert sent["auth"] == (SID, "secret-token")
    assert sent["data"]["To"] == "+821055550101" and sent["data"]["From"] == "+827040001379"
    assert sent["data"]["Url"] == "https://hotline.example/ivr/outbound/1"
    assert sent["data"]["StatusCallback"] == "https://hotline.example/cb"
    assert "completed" in sent["data"]["StatusCallbackEvent"]


def test_sms_goes_from_the_hotline_number() -> None:
    http = FakeTwilioHttp()
    assert gateway(http).send_sms("+821020001001", "안녕하세요").startswith("SM")
    [sent] = http.requests
    assert sent["uri"].endswith("/Messages.json")
    assert sent["data"] == {"To": "+821020001001", "From": "+827040001379", "Body": "안녕하세요"}


def test_a_refusal_from_twilio_is_a_telephony_error() -> None:
    with pytest.raises(TelephonyError, match="not a valid phone number"):
        gateway(FakeTwilioHttp(status=400)).start_call("+82", "https://x/u", "https://x/c", "+827040001379")


def test_recordings_are_fetched_as_mp3_with_the_account_credentials() -> None:
    media = FakeMedia()
    url = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/RE123"
    audio, content_type = gateway(FakeTwilioHttp(), media).fetch_recording(url)
    assert (audio, content_type) == (b"ID3fake-mp3", "audio/mpeg")
    [request] = media.seen
    assert request.url == url + ".mp3"
    assert request.headers["Authorization"].startswith("Basic ")


def test_the_recording_proxy_never_fetches_other_hosts() -> None:
    media = FakeMedia()
    with pytest.raises(TelephonyError):
        gateway(FakeTwilioHttp(), media).fetch_recording("https://evil.example/Recordings/RE1")
    with pytest.raises(TelephonyError):
        gateway(FakeTwilioHttp(), media).fetch_recording("http://api.twilio.com/Recordings/RE1")
    assert media.seen == []


def test_console_gateway_remembers_calls_and_messages_and_masks_numbers_in_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    console = ConsoleTelephony()
    with caplog.at_level(logging.INFO, logger="ivr.gateway"):
        sid = console.start_call("+821055550101", "http://h/u", "http://h/c", "+827040001379")
        console.send_sms("+821020001001", "hi")
    assert console.calls[0].sid == sid and console.calls[0].url == "http://h/u"
    assert console.messages[0].to == "+821020001001"
    assert "+821055550101" not in caplog.text and "+821020001001" not in caplog.text
    audio, content_type = console.fetch_recording("https://api.twilio.com/x")
    assert content_type == "audio/wav" and audio.startswith(b"RIFF")


def test_the_real_gateway_is_chosen_only_with_credentials() -> None:
    assert isinstance(make_telephony(test_config()), ConsoleTelephony)
    real = make_telephony(test_config(TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="t"))
    assert isinstance(real, TwilioTelephony)
