"""A local fake of Twilio's Recordings resource behind twilio's own Client: it holds recordings, deletes
them (204, then 404), answers fetches, and can fail a number of deletes first. No network is involved."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from twilio.http import HttpClient
from twilio.http.response import Response

from ivr.gateway import TwilioTelephony

ACCOUNT = "AC" + "0" * 32
_RECORDING = re.compile(rf"/2010-04-01/Accounts/{ACCOUNT}/Recordings/(RE[0-9a-f]{{32}})\.json$")


def sid(n: int) -> str:
    return f"RE{n:032x}"


def twilio_url(recording: str) -> str:
    return f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{recording}"


class FakeRecordings(HttpClient):
    def __init__(self, *recordings: str) -> None:
        super().__init__(logging.getLogger("fake-twilio"), is_async=False)
        self.held = set(recordings)
        self.deletes: list[str] = []  # every DELETE that reached Twilio, in order
        self.failing_deletes = 0  # how many DELETEs to answer 500 before working

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
        match = _RECORDING.search(uri)
        if match is None:
            return Response(404, json.dumps({"code": 20404, "message": "not found", "status": 404}))
        recording = match.group(1)
        if method == "DELETE":
            self.deletes.append(recording)
            if self.failing_deletes:
                self.failing_deletes -= 1
                return Response(500, json.dumps({"code": 20500, "message": "internal", "status": 500}))
        if recording not in self.held:
            return Response(404, json.dumps({"code": 20404, "message": "not found", "status": 404}))
        if method == "DELETE":
            self.held.discard(recording)
            return Response(204, "")
        return Response(200, json.dumps({"sid": recording, "account_sid": ACCOUNT, "duration": "30"}))


def gateway(fake: FakeRecordings) -> TwilioTelephony:
    return TwilioTelephony(ACCOUNT, "secret-token", "+827040001379", http_client=fake)
