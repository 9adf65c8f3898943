"""Whole calls as Twilio makes them: signed requests, TwiML followed verb by verb, rows in the database."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from ivr.signature import signing_token
from ivr.simulator import FlaskTransport
from tests.ivr.conftest import PlaceCall, call_row, outbox, tickets_of
from tickets.labels import SMS_PREFIX
from tickets.models import Call, OutboxMessage, Ticket, TicketEvent

FULL_CALL = "field=2,support_type=1,callback=1,message=record:35"
VOICES = {"ko-KR": "Polly.Seoyeon", "en-US": "Polly.Joanna"}


def _verbs(body: str) -> list[ET.Element]:
    return list(ET.fromstring(body).iter())


def test_a_korean_call_files_a_ticket_with_the_recording_and_queues_the_sms(
    place_call: PlaceCall, session: Session
) -> None:
    result = place_call(FULL_CALL)
    assert result.ended_by == "hangup"
    assert result.steps == ["field", "support_type", "callback", "message"]
    assert "기술애로 상담 일삼칠구입니다" in result.transcript
    assert "공일공, 일이삼사, 오육칠팔" in result.transcript  # the caller ID read back digit by digit
    assert "전문위원이 3일 이내 연락드립니다" in result.transcript
    (ticket,) = tickets_of(session, result)
    assert (ticket.field, ticket.support_type, ticket.language) == ("machinery", "equipment", "ko")
    assert ticket.callback_number == "+821012345678" and not ticket.incomplete
    assert ticket.recording_url and ticket.recording_url.startswith("https://api.twilio.com/")
    assert ticket.recording_duration == 35 and ticket.recording_sid
    spoken_reference = " ".join("공일이삼사오육칠팔구"[int(d)] for d in ticket.reference.replace("-", ""))
    assert spoken_reference.replace(" ", "") in result.transcript.replace(" ", "").replace(",", "")
    (sms,) = outbox(session)
    assert (sms.channel, sms.recipient, sms.key) == ("sms", "+821012345678", f"confirm-sms:{result.call_sid}")
    assert ticket.reference in sms.payload["body"] and sms.ticket_id == ticket.id
    call = call_row(session, result)
    assert call.flow_completed and call.step is None and call.status == "completed"


def test_every_answer_is_well_formed_twiml_with_valid_voice_and_language_pairs(place_call: PlaceCall) -> None:
    result = place_call(FULL_CALL)
    for exchange in result.exchanges:
        assert exchange.reply.status == 200
        assert exchange.reply.content_type.startswith("text/xml")
        for verb in _verbs(exchange.reply.body):
            if verb.tag in ("Say", "Gather") and verb.get("language"):
                if verb.tag == "Say":
                    assert VOICES[verb.get("language", "")] == verb.get("voice")
                else:
                    assert verb.get("language") in VOICES
            if verb.tag in ("Gather", "Record"):
                action = verb.get("action", "")
                assert action.startswith("http://localhost/ivr/voice/") and "turn=" in action


def test_an_english_call_switches_with_9_and_stays_english(place_call: PlaceCall, session: Session) -> None:
    result = place_call("field=9,field=1,support_type=3,callback=1,message=record")
    assert result.steps == ["field", "field", "support_type", "callback", "message"]
    after_switch = result.heard[result.heard.index("For English, press 9.") + 1 :]
    assert after_switch[0] == "Press or say your field:"  # no second greeting: the budget counts from 9
    assert "An expert will call you back within 3 days." in result.transcript
    (ticket,) = tickets_of(session, result)
    assert (ticket.language, ticket.field, ticket.support_type) == ("en", "it", "rnd")
    (sms,) = outbox(session)
    assert sms.payload["body"].startswith(SMS_PREFIX["en"])


def test_speech_answers_pick_the_options(place_call: PlaceCall, session: Session) -> None:
    result = place_call(
        "field=say:바이오 분야요,support_type=say:기술자문이요,callback=say:네,message=record"
    )
    (ticket,) = tickets_of(session, result)
    assert (ticket.field, ticket.support_type, ticket.callback_number) == ("bio", "advice", "+821012345678")


def test_a_wrong_key_is_explained_and_the_same_wrong_key_again_is_a_new_turn(
    place_call: PlaceCall, session: Session
) -> None:
    result = place_call("field=7,field=7,field=2,support_type=1,callback=1,message=record")
    assert result.transcript.count("입력하신 번호는 없는 번호입니다.") == 2
    turns = [e.url.split("turn=")[1].split("&")[0] for e in result.exchanges if "/voice/field" in e.url]
    assert turns == ["1", "2", "3"]
    (ticket,) = tickets_of(session, result)
    assert ticket.field == "machinery"


def test_three_failures_take_the_safe_defaults_instead_of_hanging_up(
    place_call: PlaceCall, session: Session
) -> None:
    result = place_call("field=8,field=silence,field=say:음,support_type=9,callback=1,message=record")
    assert "분야를 확인하지 못해 일반 상담으로 접수할게요." in result.transcript
    (ticket,) = tickets_of(session, result)
    assert ticket.field == "general" and ticket.support_type is not None


def test_another_callback_number_is_checked_and_read_back(place_call: PlaceCall, session: Session) -> None:
    script = (
        "field=1,support_type=2,callback=2,callback_number=0212#,callback_number=0313456789#,message=record"
    )
    result = place_call(script)
    assert "번호가 너무 짧습니다." in result.transcript
    assert "입력하신 번호는 공삼일, 삼사오, 육칠팔구입니다." in result.transcript
    (ticket,) = tickets_of(session, result)
    assert ticket.callback_number == "+82313456789"
    assert outbox(session) == []  # a landline gets no SMS
    assert "문자로도" not in result.transcript


@pytest.mark.parametrize("withheld", ["anonymous", "+266696687", "", "+8280012345678"])
def test_a_withheld_caller_id_goes_straight_to_the_number(
    place_call: PlaceCall, session: Session, withheld: str
) -> None:
    result = place_call(
        "field=1,support_type=1,callback_number=01098765432#,message=record", from_number=withheld
    )
    assert result.steps == ["field", "support_type", "callback_number", "callback_confirm", "message"]
    (ticket,) = tickets_of(session, result)
    assert ticket.callback_number == "+821098765432"


def test_no_recording_twice_files_the_ticket_without_one(place_call: PlaceCall, session: Session) -> None:
    result = place_call("field=1,support_type=1,callback=1,message=silence,message=silence")
    assert "녹음된 내용이 없었습니다." in result.transcript
    assert result.ended_by == "hangup"
    (ticket,) = tickets_of(session, result)
    assert ticket.recording_url is None and not ticket.incomplete


HANG_UPS = {
    "greeting": "field=hangup",
    "field": "field=2,support_type=hangup",
    "support_type": "field=2,support_type=3,callback=hangup",
    "callback": "field=2,support_type=3,callback=2,callback_number=hangup",
    "callback_number": "field=2,support_type=3,callback=2,callback_number=0313456789#,"
    "callback_confirm=hangup",
    "message": "field=2,support_type=3,callback=1,message=hangup",
}


@pytest.mark.parametrize("after", HANG_UPS)
def test_a_hang_up_at_any_step_still_files_an_incomplete_ticket(
    place_call: PlaceCall, session: Session, after: str
) -> None:
    result = place_call(HANG_UPS[after])
    assert result.ended_by == "caller"
    (ticket,) = tickets_of(session, result)
    assert ticket.incomplete
    assert ticket.callback_number in ("+821012345678", "+82313456789")
    assert ticket.field == ("general" if after == "greeting" else "machinery")
    assert outbox(session) == []  # the caller never heard the farewell: no SMS promised
    assert call_row(session, result).status == "completed"


def test_a_hang_up_while_recording_keeps_the_message(place_call: PlaceCall, session: Session) -> None:
    result = place_call("field=2,support_type=3,callback=1,message=record:40:hangup")
    assert result.ended_by == "caller"
    (ticket,) = tickets_of(session, result)
    assert not ticket.incomplete and ticket.recording_duration == 40


def test_an_early_hang_up_without_a_callable_number_is_kept_but_not_queued(
    place_call: PlaceCall, session: Session
) -> None:
    result = place_call("field=2,support_type=hangup", from_number="anonymous")
    assert tickets_of(session, result) == []
    call = call_row(session, result)
    assert call.status == "completed" and not call.flow_completed and call.state["field"] == "machinery"


@pytest.mark.parametrize("first", [True, False], ids=["callback first", "action first"])
def test_the_recording_ends_on_the_ticket_in_either_order(
    place_call: PlaceCall, session: Session, first: bool
) -> None:
    result = place_call(FULL_CALL, recording_callback_first=first)
    order = [e.url.split("/ivr/")[1].split("?")[0] for e in result.exchanges]
    assert order.index("recording") == order.index("voice/message") + (-1 if first else 1)
    (ticket,) = tickets_of(session, result)
    recording_sid = next(e.form["RecordingSid"] for e in result.exchanges if e.url.endswith("/recording"))
    assert (ticket.recording_sid, ticket.recording_duration) == (recording_sid, 35)


def _counts(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Call, Ticket, TicketEvent, OutboxMessage)
    )


class TwiceTransport(FlaskTransport):
    """Twilio retrying: every request is sent twice in a row; both answers must be identical."""

    def post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> Any:
        first = super().post(url, form, headers)
        again = super().post(url, form, headers)
        assert (again.status, again.body) == (first.status, first.body), url
        return again


@pytest.mark.parametrize(
    "script",
    [
        FULL_CALL,
        "field=7,field=7,field=2,support_type=hangup",
        "field=1,support_type=1,callback=1,message=silence",
    ],
)
def test_every_webhook_replayed_gets_the_same_twiml_and_changes_nothing(
    app: Flask, place_call: PlaceCall, session: Session, script: str
) -> None:
    once = place_call(script)
    counts_once = _counts(session)
    # another caller: a second call from the same number would be linked to the first ticket as a repeat
    twice = place_call(script, transport=TwiceTransport(app), from_number="+821055556666")
    assert (twice.steps, twice.ended_by) == (once.steps, once.ended_by)
    assert len(twice.heard) == len(once.heard)
    # the retried call made exactly what a single call makes: one call row, one ticket, its events, one SMS
    assert tuple(b - a for a, b in zip(counts_once, _counts(session), strict=True)) == counts_once


def test_a_stale_request_for_an_old_turn_repeats_the_latest_twiml(
    app: Flask, place_call: PlaceCall, session: Session
) -> None:
    result = place_call("field=2,support_type=hangup")
    before = _counts(session)
    token = signing_token(app.config["HOTLINE"])
    first_answer = result.exchanges[1]
    signature = RequestValidator(token).compute_signature(first_answer.url, first_answer.form)
    again = FlaskTransport(app).post(first_answer.url, first_answer.form, {"X-Twilio-Signature": signature})
    assert again.status == 200 and again.body == call_row(session, result).last_response
    assert _counts(session) == before


def _signed_post(app: Flask, url: str, form: dict[str, str], **headers: str) -> Any:
    signature = RequestValidator(signing_token(app.config["HOTLINE"])).compute_signature(url, form)
    return FlaskTransport(app).post(url, form, {"X-Twilio-Signature": signature, **headers})


def _form(**extra: str) -> dict[str, str]:
    return {"CallSid": "CA" + "ab" * 16, "From": "+821012345678", "To": "+827040001379", **extra}


@pytest.mark.parametrize("path", ["/ivr/voice", "/ivr/voice/field?turn=1", "/ivr/status", "/ivr/recording"])
@pytest.mark.parametrize("signature", [None, "forged"])
def test_forged_or_missing_signatures_get_403_and_store_nothing(
    app: Flask, session: Session, path: str, signature: str | None
) -> None:
    form = _form(CallStatus="completed", RecordingUrl="https://x/1", RecordingStatus="completed")
    headers = {} if signature is None else {"X-Twilio-Signature": "Zm9yZ2VkIHNpZ25hdHVyZQ=="}
    response = app.test_client().post(path, data=form, headers=headers)
    assert response.status_code == 403
    assert _counts(session) == (0, 0, 0, 0)


def test_behind_an_https_proxy_a_whole_call_works_on_the_public_url(
    app: Flask, place_call: PlaceCall, session: Session
) -> None:
    app.config["HOTLINE"] = replace(
        app.config["HOTLINE"], public_base_url="https://hotline.example.org", twilio_auth_token="real-token"
    )
    proxy = FlaskTransport(app, proxy_to="http://10.0.0.5:8000")
    result = place_call(FULL_CALL, base_url="https://hotline.example.org", transport=proxy)
    assert result.ended_by == "hangup", result.ended_by
    assert all(e.url.startswith("https://hotline.example.org/ivr/") for e in result.exchanges)
    assert len(tickets_of(session, result)) == 1


def test_percent_escaped_korean_in_the_query_string_is_accepted(app: Flask, session: Session) -> None:
    url = "http://localhost/ivr/voice?from=%EC%84%9C%EC%9A%B8%20%EC%A7%80%EC%82%AC&x=%27%26%27"
    response = _signed_post(app, url, _form())
    assert response.status == 200 and "<Gather" in response.body
    assert _counts(session)[0] == 1


def test_a_later_step_for_an_unknown_call_restarts_politely(app: Flask, session: Session) -> None:
    response = _signed_post(app, "http://localhost/ivr/voice/support_type?turn=4&lang=ko", _form(Digits="1"))
    assert response.status == 200
    assert (
        "처음부터 다시 안내해 드릴게요" in response.body
        and 'action="http://localhost/ivr/voice/field?turn=1' in (response.body)
    )


@pytest.mark.parametrize(
    "url, form, status",
    [
        ("http://localhost/ivr/voice/nonsense?turn=1", _form(Digits="1"), 404),
        ("http://localhost/ivr/voice", {"From": "+821012345678"}, 400),
        ("http://localhost/ivr/voice", _form(CallSid="CA' OR 1=1 --"), 400),
        ("http://localhost/ivr/voice/field?turn=zz", _form(Digits="1" * 5000, SpeechResult="가" * 5000), 200),
        ("http://localhost/ivr/voice/message?turn=-3", _form(RecordingDuration="NaN", RecordingUrl=""), 200),
        (
            "http://localhost/ivr/status",
            _form(From="x" * 500, CallStatus="c" * 300, CallDuration="1e99"),
            200,
        ),
    ],
    ids=["unknown step", "no CallSid", "odd CallSid", "huge input", "garbled recording", "huge status"],
)
def test_bad_input_gets_a_sane_answer_never_a_crash(
    app: Flask, url: str, form: dict[str, str], status: int
) -> None:
    response = _signed_post(app, url, form)
    assert response.status == status
    if status == 200:
        ET.fromstring(response.body)  # well-formed TwiML


def test_an_internal_error_apologises_and_keeps_the_message(
    app: Flask, place_call: PlaceCall, session: Session, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(*_args: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr("ivr.calls.flow.respond", broken)
    result = place_call("field=2,fallback_message=record:50")
    assert "일시적인 문제로 안내를 계속할 수 없습니다" in result.transcript
    assert result.steps == ["field", "fallback_message"] and result.ended_by == "hangup"
    assert all(e.reply.status == 200 for e in result.exchanges)
    assert any("database on fire" in r.exc_text for r in caplog.records if r.exc_text)
    assert any(result.call_sid in r.getMessage() for r in caplog.records)
    (ticket,) = tickets_of(session, result)
    assert ticket.incomplete and ticket.recording_duration == 50
    assert call_row(session, result).recording_url == ticket.recording_url


def test_a_repeat_call_hears_the_reference_it_already_has(place_call: PlaceCall, session: Session) -> None:
    first = place_call(FULL_CALL)
    (ticket,) = tickets_of(session, first)
    again = place_call("field=2,repeat_choice=1,message=record:20")
    assert "이미 접수된 상담이 있습니다." in again.heard
    reference = [line for line in first.heard if line.startswith("접수번호는")]
    assert reference and reference[0] in again.heard  # the same reference, read back the same way
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert any(e.type == "repeat_call" for e in ticket.events)


def test_a_recording_callback_before_the_greeting_leaves_the_callers_number_on_the_ticket(
    app: Flask, session: Session
) -> None:
    # After an outage the spool replays a call's webhooks; a recording callback (Twilio sends it without
    # From) may come first and make the call row. The greeting and the status callback carry the number.
    call_sid = "CA" + "cd" * 16
    recording = {
        "CallSid": call_sid,
        "RecordingSid": "RE" + "12" * 16,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC{'00' * 16}/Recordings/RE{'12' * 16}",
        "RecordingStatus": "completed",
        "RecordingDuration": "20",
    }
    assert _signed_post(app, "http://localhost/ivr/recording", recording).status == 200
    greeting = _signed_post(app, "http://localhost/ivr/voice", _form(CallSid=call_sid))
    assert greeting.status == 200 and "<Gather" in greeting.body
    ended = _form(CallSid=call_sid, CallStatus="completed", CallDuration="40")
    assert _signed_post(app, "http://localhost/ivr/status", ended).status == 200
    session.expire_all()
    call = session.scalars(select(Call).where(Call.call_sid == call_sid)).one()
    assert call.from_number == "+821012345678"
    (ticket,) = session.scalars(select(Ticket).where(Ticket.call_id == call.id))
    assert ticket.incomplete and ticket.callback_number == "+821012345678"
