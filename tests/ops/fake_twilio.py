"""A local fake of the Twilio REST endpoints `hotline check` uses, behind twilio's own `Client`.

It plugs in as the client's `HttpClient`, so the twilio library builds every request and parses every
answer as it would against api.twilio.com; no network is involved. It keeps state: a number changed through
the API stays changed for the next request.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token"
NUMBER_SID = "PN" + "1" * 32

_ACCOUNT = re.compile(r"/2010-04-01/Accounts/(AC\w{32})\.json")
_NUMBERS = re.compile(r"/2010-04-01/Accounts/(AC\w{32})/IncomingPhoneNumbers\.json")
_NUMBER = re.compile(r"/2010-04-01/Accounts/(AC\w{32})/IncomingPhoneNumbers/(PN\w{32})\.json")


def incoming_number(phone_number: str, **settings: Any) -> dict[str, Any]:
    """An IncomingPhoneNumber as the REST API returns it (the fields the hotline reads)."""
    return {
        "sid": NUMBER_SID,
        "account_sid": ACCOUNT_SID,
        "phone_number": phone_number,
        "friendly_name": "Hotline 1379",
        "voice_url": "",
        "voice_method": "POST",
        "status_callback": "",
        "status_callback_method": "POST",
        "voice_application_sid": None,
        "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
        **settings,
    }


class FakeTwilioApi(HttpClient):
    def __init__(self, numbers: list[dict[str, Any]] | None = None, account_status: str = "active") -> None:
        super().__init__(logging.getLogger("fake-twilio"), is_async=False)
        self.numbers = numbers or []
        self.account_status = account_status
        self.requests: list[dict[str, Any]] = []

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
        self.requests.append({"method": method, "uri": uri, "params": params, "data": data})
        parts = urlsplit(uri)
        assert parts.scheme == "https" and parts.hostname == "api.twilio.com", uri
        if auth != (ACCOUNT_SID, AUTH_TOKEN):
            return _answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if method == "GET" and (match := _ACCOUNT.fullmatch(parts.path)):
            body = {"sid": match[1], "friendly_name": "1379 center", "status": self.account_status}
            return _answer(200, body)
        if method == "GET" and _NUMBERS.fullmatch(parts.path):
            wanted = (params or {}).get("PhoneNumber", "")
            found = [n for n in self.numbers if wanted in n["phone_number"]]
            return _answer(200, {"incoming_phone_numbers": found, "next_page_uri": None, "page": 0})
        if method == "POST" and (match := _NUMBER.fullmatch(parts.path)):
            number = next((n for n in self.numbers if n["sid"] == match[2]), None)
            if number is None:
                return _answer(404, {"code": 20404, "message": "not found", "status": 404})
            for key, value in (data or {}).items():
                number[_snake(key)] = value
            return _answer(200, number)
        return _answer(404, {"code": 20404, "message": f"no fake for {method} {parts.path}", "status": 404})

    def updates(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST"]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _answer(status: int, body: dict[str, Any]) -> Response:
    return Response(status, json.dumps(body))
