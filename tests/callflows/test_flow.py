"""Calls as a caller makes them: keys, speech, mistakes, silence, and what the flow says back."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callflows.call_actions import Gather, Hangup, Pause, Record, Say
from callflows.flow import Reply, Turn, UnknownStep, apology, farewell, respond, restart, start
from callflows.flow_config import FlowConfig

from .conftest import make_config
from .helpers import answer, listening, spoken

CALLER = "+821012345678"
RECORDING_URL = "https://api.twilio.com/rec/RE1"
RECORDING: dict[str, object] = {"recording_url": RECORDING_URL, "recording_duration": 42}
RECORDED = Reply(recording_url=RECORDING_URL, recording_duration=42)


def test_full_korean_call_by_keys(config: FlowConfig) -> None:
    turn = start(config, CALLER)
    field_menu = listening(turn)
    assert isinstance(field_menu, Gather)
    assert field_menu.step == "field" and field_menu.language == "ko"
    assert field_menu.input_modes == ("dtmf", "speech") and field_menu.num_digits == 1
    assert "기술애로 상담 일삼칠구" in spoken(turn.actions)
    assert "정보통신(IT) 1번" in spoken(turn.actions)
    assert "잘 모르시면 0번" in spoken(turn.actions)
    # the English offer is spoken in English, by the English voice
    assert Say("For English, press 9.", "en") in field_menu.prompts

    turn = answer(config, turn, digits="4")
    assert turn.state.field == "bio" and turn.state.step == "support_type"
    assert "바이오·의료 분야입니다" in spoken(turn.actions)
    assert "장비활용 1번, 기술자문 2번" in spoken(turn.actions)
    assert "기타 0번" in spoken(turn.actions)

    turn = answer(config, turn, digits="2")
    assert turn.state.support_type == "advice" and turn.state.step == "callback"
    assert "공일공, 일이삼사, 오육칠팔" in spoken(turn.actions)

    turn = answer(config, turn, digits="1")
    assert turn.state.callback_number == CALLER and turn.state.callback_source == "caller_id"
    record = listening(turn)
    assert isinstance(record, Record) and record.step == "message"
    assert (
        record.max_length == config.recording_max_seconds and record.finish_on_key == "#" and record.play_beep
    )

    turn = answer(config, turn, **RECORDING)
    assert turn.state.finished and turn.actions == ()
    assert turn.state.recording == {"url": "https://api.twilio.com/rec/RE1", "duration": 42}
    assert turn.state.defaulted_steps == ()


def test_nine_switches_to_english_for_the_rest_of_the_call(config: FlowConfig) -> None:
    turn = answer(config, start(config, CALLER), digits="9")
    menu = listening(turn)
    assert turn.state.language == "en" and turn.state.step == "field" and turn.state.failures == 0
    assert menu.language == "en" and all(p.language == "en" for p in menu.prompts[:-1] if isinstance(p, Say))
    assert "1 for information and communication technology" in spoken(turn.actions)
    assert Say("한국어는 9번.", "ko") in menu.prompts

    turn = answer(config, turn, digits="0")
    assert turn.state.field == "general"
    assert "general request" in spoken(turn.actions)
    turn = answer(config, turn, digits="3")
    assert "0 1 0, 1 2 3 4, 5 6 7 8" in spoken(turn.actions)
    turn = answer(config, turn, digits="1")
    assert "After the beep" in spoken(turn.actions)
    turn = answer(config, turn, **RECORDING)
    assert turn.state.finished and turn.state.language == "en"


def test_switching_language_does_not_count_as_a_failure(config: FlowConfig) -> None:
    turn = answer(config, start(config, CALLER), digits="7")
    assert turn.state.failures == 1
    turn = answer(config, turn, digits="9")
    assert turn.state.failures == 0 and turn.state.language == "en"
    turn = answer(config, turn, speech="Korean please")
    assert turn.state.language == "ko" and turn.state.step == "field"


def test_without_english_in_config_nine_is_just_a_wrong_key() -> None:
    config = make_config(languages={"ko": make_config().languages["ko"]})
    turn = start(config, CALLER)
    assert "For English" not in spoken(turn.actions)
    turn = answer(config, turn, digits="9")
    assert turn.state.language == "ko" and turn.state.failures == 1
    assert "없는 번호" in spoken(turn.actions)


@pytest.mark.parametrize(
    ("speech", "field"),
    [
        ("바이오 분야요", "bio"),
        ("바이오분야요.", "bio"),
        ("IT요", "it"),
        ("정보 통신 쪽이에요", "it"),
        ("기계", "machinery"),
        ("energy", "energy"),
        ("Energy and environment, please.", "energy"),
        ("반도체 관련입니다", "electronics"),
        ("일번", "it"),
        ("1번이요", "it"),
        ("사 번이요", "bio"),
        ("number two", "machinery"),
        ("잘 모르겠어요", "general"),
        ("영번", "general"),
    ],
)
def test_speech_picks_a_field(config: FlowConfig, speech: str, field: str) -> None:
    turn = answer(config, start(config, CALLER), speech=speech, confidence=0.8)
    assert turn.state.field == field and turn.state.step == "support_type"


@pytest.mark.parametrize("speech", ["바이오랑 기계요", "음", "it is complicated", "날씨가 좋네요"])
def test_ambiguous_or_unknown_speech_asks_again(config: FlowConfig, speech: str) -> None:
    turn = answer(config, start(config, CALLER), speech=speech)
    assert turn.state.field is None and turn.state.failures == 1
    assert spoken(turn.actions).startswith("말씀을 정확히 알아듣지 못했습니다.")


def test_english_by_speech(config: FlowConfig) -> None:
    turn = answer(config, start(config, CALLER), speech="English please")
    assert turn.state.language == "en"
    turn = answer(config, turn, speech="It's about our computer network.", confidence=0.0)  # 0.0: "unknown"
    assert turn.state.language == "en" and turn.state.field == "it"
    turn = answer(config, turn, speech="R&D")
    assert turn.state.support_type == "rnd"


def test_speech_answers_yes_or_no(config: FlowConfig) -> None:
    turn = _at_callback(config)
    assert answer(config, turn, speech="네 맞아요").state.callback_source == "caller_id"
    assert answer(config, turn, speech="아니요 다른 번호로 해주세요").state.step == "callback_number"
    assert answer(config, turn, speech="이 번호로 해 주세요").state.step == "message"


def _at_callback(config: FlowConfig, caller: str | None = CALLER) -> Turn:
    turn = answer(config, start(config, caller), digits="1")
    return answer(config, turn, digits="1")


def _at_callback_number(config: FlowConfig) -> Turn:
    turn = answer(config, _at_callback(config), digits="2")
    assert listening(turn).step == "callback_number"
    return turn


# --- mistakes ----------------------------------------------------------------------------------

INVALID_KEY = {"ko": "입력하신 번호는 없는 번호입니다.", "en": "That key is not one of the options."}
NO_INPUT = {"ko": "입력이 없었습니다.", "en": "We didn't receive any input."}


@pytest.mark.parametrize(
    ("step", "reach", "wrong", "default"),
    [
        ("field", lambda c: start(c, CALLER), {"digits": "7"}, {"field": "general", "step": "support_type"}),
        ("field", lambda c: start(c, CALLER), {"digits": "#"}, {"field": "general", "step": "support_type"}),
        ("field", lambda c: start(c, CALLER), {"digits": "12"}, {"field": "general", "step": "support_type"}),
        (
            "support_type",
            lambda c: answer(c, start(c, CALLER), digits="1"),
            {"digits": "8"},
            {"support_type": "other", "step": "callback"},
        ),
        (
            "callback",
            _at_callback,
            {"digits": "3"},
            {"callback_number": CALLER, "callback_source": "caller_id", "step": "message"},
        ),
        (
            "callback_confirm",
            lambda c: answer(c, _at_callback_number(c), digits="01098765432"),
            {"digits": "5"},
            {"callback_number": "+821098765432", "callback_source": "entered", "step": "message"},
        ),
    ],
)
def test_wrong_keys_are_explained_then_the_default_is_taken(
    config: FlowConfig,
    step: str,
    reach: Callable[[FlowConfig], Turn],
    wrong: dict[str, str],
    default: dict[str, str],
) -> None:
    turn = reach(config)
    assert turn.state.step == step
    for failures in (1, 2):
        turn = answer(config, turn, **wrong)
        assert turn.state.step == step and turn.state.failures == failures
        assert spoken(turn.actions).startswith(INVALID_KEY["ko"])
    turn = answer(config, turn, **wrong)
    for key, value in default.items():
        assert getattr(turn.state, key) == value
    assert turn.state.failures == 0 and turn.state.defaulted_steps == (step,)
    listening(turn)


@pytest.mark.parametrize("step", ["field", "support_type", "callback", "callback_number"])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_silence_is_explained_and_never_loops(config: FlowConfig, step: str, language: str) -> None:
    turn = start(config, CALLER)
    if language == "en":
        turn = answer(config, turn, digits="9")
    route = {"field": [], "support_type": ["1"], "callback": ["1", "1"], "callback_number": ["1", "1", "2"]}
    for digits in route[step]:
        turn = answer(config, turn, digits=digits)
    assert turn.state.step == step
    for failures in range(1, config.max_failures):
        turn = answer(config, turn)
        assert turn.state.failures == failures and turn.state.step == step
        assert spoken(turn.actions).startswith(NO_INPUT[language])
    turn = answer(config, turn)
    if step == "field" and language == "ko":
        # silence from the first word: a missed call, with a goodbye that invites another call
        assert turn.state.finished and turn.state.missed and "다시 전화해 주세요" in spoken(turn.actions)
        assert isinstance(turn.actions[-1], Hangup)
        return
    assert turn.state.step != step and turn.state.defaulted_steps == (step,)
    listening(turn)


def test_silence_at_the_number_read_back_accepts_it(config: FlowConfig) -> None:
    turn = answer(config, _at_callback_number(config), digits="0212345678")
    assert turn.state.step == "callback_confirm"
    turn = answer(config, turn)
    assert turn.state.step == "message" and turn.state.callback_number == "+82212345678"
    assert turn.state.defaulted_steps == ()


def test_failures_reset_when_the_step_changes(config: FlowConfig) -> None:
    turn = answer(config, start(config, CALLER), digits="8")
    turn = answer(config, turn, digits="8")
    turn = answer(config, turn, digits="2")
    assert turn.state.step == "support_type" and turn.state.failures == 0


def test_max_failures_comes_from_config() -> None:
    config = make_config(max_failures=1)
    turn = answer(config, start(config, CALLER), digits="7")
    assert turn.state.field == "general" and "일반 상담으로 접수" in spoken(turn.actions)


# --- caller ID and callback numbers ------------------------------------------------------------


@pytest.mark.parametrize(
    "caller",
    [None, "", "+266696687", "anonymous", "Anonymous", "restricted", "unknown", "+1234", "0801234567"],
)
def test_withheld_or_uncallable_caller_id_goes_straight_to_entering_a_number(
    config: FlowConfig, caller: str | None
) -> None:
    turn = _at_callback(config, caller)
    assert turn.state.step == "callback_number"
    gather = listening(turn)
    assert isinstance(gather, Gather)
    assert gather.finish_on_key == "#" and gather.num_digits is None and gather.input_modes == ("dtmf",)
    assert "지역번호부터" in spoken(turn.actions)


def test_the_default_at_callback_number_when_caller_id_is_withheld(config: FlowConfig) -> None:
    turn = _at_callback(config, "anonymous")
    for _ in range(config.max_failures):
        turn = answer(config, turn, digits="123")
    assert turn.state.step == "message" and turn.state.callback_number is None
    assert "번호를 확인하지 못했습니다" in spoken(turn.actions)


@pytest.mark.parametrize(
    ("digits", "reason"),
    [
        ("0212345", "번호가 너무 짧습니다. 지역번호를 포함해 눌러 주세요."),
        ("1" * 20, "번호가 너무 깁니다."),
        ("010*1234", "별표는 사용할 수 없습니다. 숫자만 눌러 주세요."),
        ("0991234567", "올바른 전화번호가 아닙니다."),
        ("0801234567", "그 번호로는 연락드릴 수 없습니다. 휴대전화나 일반 전화번호를 입력해 주세요."),
        ("0601234567", "올바른 전화번호가 아닙니다."),
        ("", "입력이 없었습니다."),
    ],
)
def test_invalid_entered_numbers_are_said_back_with_the_reason(
    config: FlowConfig, digits: str, reason: str
) -> None:
    turn = answer(config, _at_callback_number(config), digits=digits)
    assert turn.state.step == "callback_number" and turn.state.failures == 1
    assert turn.state.callback_number is None
    assert spoken(turn.actions).startswith(reason)


@pytest.mark.parametrize(
    ("digits", "e164", "read_back"),
    [
        ("01098765432", "+821098765432", "공일공, 구팔칠육, 오사삼이"),
        ("0212345678", "+82212345678", "공이, 일이삼사, 오육칠팔"),
        ("07040001379#", "+827040001379", "공칠공, 사공공공, 일삼칠구"),
        ("0311234567", "+82311234567", "공삼일, 일이삼, 사오육칠"),
    ],
)
def test_an_entered_number_is_read_back_and_confirmed(
    config: FlowConfig, digits: str, e164: str, read_back: str
) -> None:
    turn = answer(config, _at_callback_number(config), digits=digits)
    assert turn.state.step == "callback_confirm" and turn.state.callback_number == e164
    assert f"입력하신 번호는 {read_back}입니다" in spoken(turn.actions)
    turn = answer(config, turn, digits="1")
    assert turn.state.step == "message"
    assert turn.state.callback_number == e164 and turn.state.callback_source == "entered"


def test_two_at_the_read_back_enters_the_number_again(config: FlowConfig) -> None:
    turn = answer(config, _at_callback_number(config), digits="01098765432")
    turn = answer(config, turn, digits="2")
    assert turn.state.step == "callback_number" and turn.state.callback_number is None
    turn = answer(config, turn, digits="01011112222")
    turn = answer(config, turn, speech="네")
    assert turn.state.callback_number == "+821011112222"


# --- the message -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "empty",
    [
        {},
        {"recording_duration": 5},
        {"recording_url": "https://x/r", "recording_duration": 0},
        {"digits": "#"},
    ],
)
def test_an_empty_recording_is_asked_for_once_more_then_the_call_ends_without_one(
    config: FlowConfig, empty: dict[str, object]
) -> None:
    turn = answer(config, _at_callback(config), digits="1")
    turn = answer(config, turn, **empty)
    assert turn.state.step == "message" and not turn.state.finished
    assert spoken(turn.actions).startswith("녹음된 내용이 없었습니다. 한 번 더 말씀해 주세요.")
    assert isinstance(listening(turn), Record)
    turn = answer(config, turn, **empty)
    assert turn.state.finished and turn.state.recording is False and turn.actions == ()
    assert turn.state.defaulted_steps == ("message",)


def test_a_recording_without_a_duration_is_kept(config: FlowConfig) -> None:
    turn = answer(config, _at_callback(config), digits="1")
    turn = answer(config, turn, recording_url="https://x/r")
    assert turn.state.finished and turn.state.recording == {"url": "https://x/r", "duration": None}


# --- requests out of order ---------------------------------------------------------------------


def test_a_stale_step_asks_the_current_question_again_without_counting(config: FlowConfig) -> None:
    turn = answer(config, start(config, CALLER), digits="1")
    again = respond(config, turn.state, "field", Reply(digits="4"))  # Twilio retried the field request
    assert again.state == turn.state
    assert listening(again).step == "support_type"
    assert "없는 번호" not in spoken(again.actions)
    later = respond(config, turn.state, "message", RECORDED)  # jumping ahead does nothing
    assert later.state == turn.state and listening(later).step == "support_type"


def test_a_finished_call_stays_finished(config: FlowConfig) -> None:
    turn = answer(config, _at_callback(config), digits="1")
    turn = answer(config, turn, **RECORDING)
    replay = respond(config, turn.state, "message", RECORDED)
    assert replay == Turn(turn.state, ())


@pytest.mark.parametrize("step", ["nope", "", "FIELD", "fallback_message", "../field", "x" * 10_000])
def test_an_unknown_step_raises(config: FlowConfig, step: str) -> None:
    with pytest.raises(UnknownStep) as raised:
        respond(config, start(config, CALLER).state, step, Reply(digits="1"))
    assert raised.value.step == step
    assert len(str(raised.value)) < 100


def test_restart_says_we_start_over(config: FlowConfig) -> None:
    turn = restart(config, CALLER)
    assert spoken(turn.actions).startswith("죄송합니다. 통화 정보를 찾지 못해 처음부터")
    assert turn.state == start(config, CALLER).state
    assert listening(turn).step == "field"


# --- huge input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        {"digits": "1" * 10_000},
        {"digits": "0" * 9_999 + "#"},
        {"speech": "바이오 " * 2_000},
        {"speech": "a" * 10_000},
        {"speech": "일" * 10_000},
        {"recording_url": "h" * 10_000, "recording_duration": 10**12},
    ],
)
@pytest.mark.parametrize("path", [[], ["1"], ["1", "1"], ["1", "1", "2"], ["1", "1", "1"]])
def test_huge_inputs_are_handled_at_every_step(
    config: FlowConfig, reply: dict[str, object], path: list[str]
) -> None:
    turn = start(config, CALLER)
    for digits in path:
        turn = answer(config, turn, digits=digits)
    turn = answer(config, turn, **reply)
    assert turn.state.finished or listening(turn)


# --- endings ------------------------------------------------------------------------------------


def test_farewell_reads_the_reference_twice_slowly_and_hangs_up(config: FlowConfig) -> None:
    turn = answer(config, _at_callback(config), digits="1")
    state = answer(config, turn, **RECORDING).state
    actions = farewell(config, state, "4821-9135", sms=True)
    text = spoken(actions)
    assert text.count("사 팔 이 일, 구 일 삼 오") == 2
    assert "전문위원이 3일 이내 연락드립니다." in text
    assert "문자" in text
    assert any(isinstance(a, Pause) for a in actions)
    assert actions[-1] == Hangup()


def test_farewell_in_english_without_sms(config: FlowConfig) -> None:
    turn = answer(config, start(config, CALLER), digits="9")
    for digits in ("1", "1", "1"):
        turn = answer(config, turn, digits=digits)
    state = answer(config, turn, **RECORDING).state
    text = spoken(farewell(config, state, "4821-9135", sms=False))
    assert text.count("4 8 2 1, 9 1 3 5") == 2
    assert "within 3 days" in text and "text message" not in text


def test_farewell_without_a_callback_number_does_not_promise_a_call(config: FlowConfig) -> None:
    turn = _at_callback(config, "anonymous")
    for _ in range(config.max_failures):
        turn = answer(config, turn)
    state = answer(config, turn, **RECORDING).state
    assert state.callback_number is None
    text = spoken(farewell(config, state, "4821-9135", sms=False))
    assert "이내 연락드립니다" not in text and "다시 전화해 주세요" in text


@pytest.mark.parametrize("language", ["ko", "en", "fr"])
def test_apology_takes_a_message_then_hangs_up(config: FlowConfig, language: str) -> None:
    record, hangup = apology(config, language)
    assert isinstance(record, Record) and record.step == "fallback_message"
    assert record.language in ("ko", "en") and record.max_length == config.recording_max_seconds
    assert spoken((record,)).startswith("죄송합니다" if record.language == "ko" else "We're sorry")
    assert hangup == Hangup()


@pytest.mark.parametrize(
    ("form", "reply"),
    [
        ({}, Reply()),
        ({"Digits": "", "SpeechResult": ""}, Reply()),
        ({"Digits": "1", "CallSid": "CA1"}, Reply(digits="1")),
        ({"SpeechResult": "바이오요", "Confidence": "0.91"}, Reply(speech="바이오요", confidence=0.91)),
        ({"Confidence": "nan"}, Reply()),
        (
            {"RecordingUrl": "https://x/r", "RecordingDuration": "12"},
            Reply(recording_url="https://x/r", recording_duration=12),
        ),
        ({"RecordingUrl": "https://x/r", "RecordingDuration": "abc"}, Reply(recording_url="https://x/r")),
        ({"RecordingDuration": "1e400"}, Reply()),
    ],
)
def test_reply_from_twilio_form(form: dict[str, str], reply: Reply) -> None:
    assert Reply.from_twilio(form) == reply
