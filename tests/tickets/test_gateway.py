"""The Twilio gateway over the real twilio.rest.Client, with a fake HTTP client underneath."""

from __future__ import annotations

import base64
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
from tests.privacy.fake_recordings import FakeRecordings, sid
from tests.privacy.fake_recordings import gateway as recordings_gateway
from tests.tickets.test_console_auth import login
from tickets import accounts, events, recordings
from tickets.db import db
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
    """Twilio's media side: answers each request from `answers` in turn (the last one repeats) and
    remembers every request, so a test sees exactly where the proxy went and what it sent."""

    def __init__(self, *answers: tuple[int, dict[str, str], bytes]) -> None:
        super().__init__()
        self.answers = list(answers) or [AUDIO]
        self.seen: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.seen.append(request)
        status, headers, body = self.answers[min(len(self.seen), len(self.answers)) - 1]
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        response._content = body
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


AUDIO = (200, {"Content-Type": "audio/mpeg"}, b"ID3fake-mp3")
REC = "RE" + "ab12" * 8
OWN_MEDIA_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{REC}.mp3"
# What Twilio posts as RecordingUrl; old rows kept only this.
TWILIO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{REC}"


def gateway(http: FakeTwilioHttp, media: FakeMedia | None = None) -> TwilioTelephony:
    session = requests.Session()
    if media is not None:
        session.mount("https://", media)
        session.mount("http://", media)
    return TwilioTelephony(SID, "secret-token", "+827040001379", http_client=http, media_session=session)


def redirect(location: str) -> tuple[int, dict[str, str], bytes]:
    return (302, {"Location": location, "Content-Type": "text/html"}, b"<a href=x>moved</a>")


def credentials(request: requests.PreparedRequest) -> str | None:
    header = request.headers.get("Authorization")
    return base64.b64decode(header.removeprefix("Basic ")).decode() if header else None


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


# --- the recording proxy: credentials go to the account's own media URL, nowhere else ---


def test_a_recording_is_fetched_by_sid_from_the_accounts_own_media_url_with_its_credentials() -> None:
    media = FakeMedia()
    audio, content_type = gateway(FakeTwilioHttp(), media).fetch_recording(REC)
    assert (audio, content_type) == (b"ID3fake-mp3", "audio/mpeg")
    [request] = media.seen
    assert request.url == OWN_MEDIA_URL
    assert credentials(request) == f"{SID}:secret-token"


NOT_A_SID = [
    "https://evil\\@api.twilio.com/2010-04-01/Accounts/" + SID + "/Recordings/" + REC,
    "https://evil@api.twilio.com/2010-04-01/Accounts/" + SID + "/Recordings/" + REC,
    TWILIO_URL,
    "RE1",
    REC + "/../../Messages.json",
    REC + "\n",
    "re" + REC[2:] + "x",
]


@pytest.mark.parametrize("value", NOT_A_SID)
def test_the_gateway_fetches_nothing_but_a_recording_sid(value: str) -> None:
    media = FakeMedia()
    with pytest.raises(TelephonyError):
        gateway(FakeTwilioHttp(), media).fetch_recording(value)
    assert media.seen == []
    with pytest.raises(TelephonyError):
        ConsoleTelephony().fetch_recording(value)  # the development gateway keeps the same contract


OTHER_ACCOUNT = "AC" + "9" * 32
STORED_URLS_THAT_PLAY_NOTHING = {
    "backslash before @": f"https://evil\\@api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{REC}",
    "userinfo": f"https://user:pass@api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{REC}",
    "port": f"https://api.twilio.com:8443/2010-04-01/Accounts/{SID}/Recordings/{REC}",
    "plain http": f"http://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{REC}",
    "other host": f"https://api.twilio.com.evil.example/2010-04-01/Accounts/{SID}/Recordings/{REC}",
    "other path": f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json?x=/Recordings/{REC}",
    "query": f"{TWILIO_URL}?x=1",
    "fragment": f"{TWILIO_URL}#x",
    "json": f"{TWILIO_URL}.json",
    "short sid": f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/RE1",
    "trailing newline": f"{TWILIO_URL}\n",
}


@pytest.mark.parametrize("url", STORED_URLS_THAT_PLAY_NOTHING.values(), ids=STORED_URLS_THAT_PLAY_NOTHING)
def test_a_stored_url_gives_up_a_sid_only_in_the_exact_form_twilio_posts(url: str) -> None:
    assert recordings.recording_sid(None, url) is None
    assert recordings.recording_sid(None, TWILIO_URL) == REC
    assert recordings.recording_sid(None, TWILIO_URL + ".mp3") == REC
    # the SID Twilio posted wins; the account in an old URL is never used (the gateway uses its own)
    assert recordings.recording_sid("RE" + "f" * 32, url) == "RE" + "f" * 32
    assert recordings.recording_sid(None, TWILIO_URL.replace(SID, OTHER_ACCOUNT)) == REC


REFUSED_REDIRECTS = {
    "other host": "https://evil.example/r.mp3",
    "scheme-relative other host": "//evil.example/r.mp3",
    "api host's lookalike": "https://mms.twiliocdn.com.evil.example/r.mp3",
    "plain http": "http://mms.twiliocdn.com/r.mp3",
    "port": "https://mms.twiliocdn.com:8443/r.mp3",
    "userinfo": "https://user@mms.twiliocdn.com/r.mp3",
    "backslash before @": "https://evil\\@mms.twiliocdn.com/r.mp3",
    "another api path": "/2010-04-01/Accounts/" + SID + "/Messages.json",
    "no location": "",
}


@pytest.mark.parametrize("location", REFUSED_REDIRECTS.values(), ids=REFUSED_REDIRECTS)
def test_a_redirect_off_twilios_media_hosts_is_not_followed(location: str) -> None:
    media = FakeMedia(redirect(location), AUDIO)
    with pytest.raises(TelephonyError):
        gateway(FakeTwilioHttp(), media).fetch_recording(REC)
    assert [r.url for r in media.seen] == [OWN_MEDIA_URL]


def test_a_redirect_to_twilios_media_host_is_followed_without_the_credentials() -> None:
    signed = "https://mms.twiliocdn.com/v1/abc/r.mp3?Expires=1&Signature=s"
    media = FakeMedia(redirect(signed), AUDIO)
    assert gateway(FakeTwilioHttp(), media).fetch_recording(REC) == (b"ID3fake-mp3", "audio/mpeg")
    first, second = media.seen
    assert credentials(first) == f"{SID}:secret-token"
    assert second.url == signed and credentials(second) is None


def test_endless_redirects_end_in_an_error() -> None:
    media = FakeMedia(redirect("https://mms.twiliocdn.com/again.mp3"))
    with pytest.raises(TelephonyError):
        gateway(FakeTwilioHttp(), media).fetch_recording(REC)
    assert len(media.seen) <= 4


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=utf-8", "application/json", ""])
def test_only_audio_comes_back_from_the_media_url(content_type: str) -> None:
    media = FakeMedia((200, {"Content-Type": content_type}, b"<script>alert(1)</script>"))
    with pytest.raises(TelephonyError):
        gateway(FakeTwilioHttp(), media).fetch_recording(REC)


def test_an_account_sid_that_is_not_one_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="TWILIO_ACCOUNT_SID"):
        TwilioTelephony("AC1/../../x", "t", "+827040001379", http_client=FakeTwilioHttp())


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
    audio, content_type = console.fetch_recording(REC)
    assert content_type == "audio/wav" and audio.startswith(b"RIFF")


def test_the_real_gateway_is_chosen_only_with_credentials() -> None:
    assert isinstance(make_telephony(test_config()), ConsoleTelephony)
    real = make_telephony(test_config(TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="t"))
    assert isinstance(real, TwilioTelephony)


# --- through the app: the API and the console play by SID and hand out only their own links ---


@pytest.fixture
def twilio_media(app: Any, monkeypatch: pytest.MonkeyPatch) -> FakeMedia:
    """The app on the real gateway, with Twilio's media side faked."""
    media = FakeMedia()
    monkeypatch.setitem(app.extensions, "telephony", gateway(FakeTwilioHttp(), media))
    return media


def api_get(client: Any, session: Any, user: Any, path: str) -> Any:
    token = accounts.issue_token(session, user)
    db.session.commit()  # keep the test's rows: a refused request rolls back its own changes
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_the_api_hands_out_its_own_links_and_plays_them_by_sid(
    client, session, make_user, make_ticket, twilio_media
) -> None:
    kim = make_user("it-kim")
    ticket = make_ticket()
    ticket.recording_sid, ticket.recording_url = REC, TWILIO_URL
    events.record(session, ticket, "recording_added", url=TWILIO_URL, duration=30)
    later = TWILIO_URL[:-1] + "f"
    extra = events.record(session, ticket, "recording_added", url=later, duration=41, extra=True)
    ref = ticket.reference

    shown = api_get(client, session, kim, f"/api/v1/tickets/{ref}")
    assert "twilio.com" not in shown.get_data(as_text=True)
    data = shown.get_json()
    assert data["recording_url"] == f"/api/v1/tickets/{ref}/recording"
    added = [e["detail"]["url"] for e in data["events"] if e["type"] == "recording_added"]
    assert added == [data["recording_url"], f"/api/v1/tickets/{ref}/recordings/{extra.id}"]

    played = api_get(client, session, kim, data["recording_url"])
    assert played.status_code == 200 and played.mimetype == "audio/mpeg"
    assert played.headers["X-Content-Type-Options"] == "nosniff"
    assert api_get(client, session, kim, added[1]).status_code == 200
    assert [r.url for r in twilio_media.seen] == [OWN_MEDIA_URL, OWN_MEDIA_URL.replace(REC, later[-34:])]


def test_an_old_row_with_only_twilios_url_plays_under_the_accounts_own_media_url(
    client, session, make_user, make_ticket, twilio_media
) -> None:
    kim = make_user("it-kim")
    ticket = make_ticket()
    ticket.recording_url = TWILIO_URL.replace(SID, OTHER_ACCOUNT)  # no RecordingSid stored
    played = api_get(client, session, kim, f"/api/v1/tickets/{ticket.reference}/recording")
    assert played.status_code == 200
    assert [r.url for r in twilio_media.seen] == [OWN_MEDIA_URL]


@pytest.mark.parametrize("url", STORED_URLS_THAT_PLAY_NOTHING.values(), ids=STORED_URLS_THAT_PLAY_NOTHING)
def test_a_stored_url_in_any_other_form_is_never_fetched(
    client, session, make_user, make_ticket, twilio_media, url
) -> None:
    kim = make_user("it-kim")
    ticket = make_ticket()
    ticket.recording_url = url
    events.record(session, ticket, "recording_added", url=url, duration=3, extra=True)
    assert api_get(client, session, kim, f"/api/v1/tickets/{ticket.reference}/recording").status_code == 404
    shown = api_get(client, session, kim, f"/api/v1/tickets/{ticket.reference}").get_json()
    assert shown["recording_url"] is None and shown["extra_recordings"] == []
    assert [e["detail"]["url"] for e in shown["events"] if e["type"] == "recording_added"] == [None]
    assert twilio_media.seen == []


def test_a_page_from_upstream_is_never_served_from_the_hotlines_origin(
    client, session, make_user, make_ticket, twilio_media
) -> None:
    kim = make_user("it-kim")
    ticket = make_ticket()
    ticket.recording_sid = REC
    ticket.recording_url = TWILIO_URL
    twilio_media.answers = [(200, {"Content-Type": "text/html"}, b"<script>steal()</script>")]
    played = api_get(client, session, kim, f"/api/v1/tickets/{ticket.reference}/recording")
    assert played.status_code == 502 and played.is_json
    assert b"steal" not in played.data


def test_the_console_plays_through_its_own_proxy(
    client, session, make_user, make_ticket, twilio_media
) -> None:
    make_user("it-kim")
    ticket = make_ticket()
    ticket.recording_sid, ticket.recording_url = REC, TWILIO_URL
    events.record(session, ticket, "recording_added", url=TWILIO_URL, duration=30)
    login(client, "it-kim")
    page = client.get(f"/console/tickets/{ticket.reference}").get_data(as_text=True)
    player = f"/console/tickets/{ticket.reference}/recording"
    assert f'src="{player}"' in page and "twilio.com" not in page
    played = client.get(player)
    assert played.status_code == 200 and played.mimetype == "audio/mpeg"
    assert played.headers["X-Content-Type-Options"] == "nosniff"
    assert [r.url for r in twilio_media.seen] == [OWN_MEDIA_URL]


# --- deleting recordings (retention, erasure) -------------------------------------------------------------


def test_a_recording_is_deleted_through_the_rest_api_and_a_second_delete_is_no_error() -> None:
    fake = FakeRecordings(sid(1))
    twilio = recordings_gateway(fake)
    assert twilio.recording_exists(sid(1))
    twilio.delete_recording(sid(1))
    assert not twilio.recording_exists(sid(1)) and fake.held == set()
    twilio.delete_recording(sid(1))  # gone already (404): the outcome wanted
    fake.held.add(sid(2))
    fake.failing_deletes = 1
    with pytest.raises(TelephonyError):
        twilio.delete_recording(sid(2))  # Twilio failed: the outbox retries it
    assert sid(2) in fake.held
    with pytest.raises(TelephonyError):
        twilio.delete_recording("RE1/../../Messages")  # only a SID goes into the resource's path
    assert fake.deletes == [sid(1), sid(1), sid(2)]
