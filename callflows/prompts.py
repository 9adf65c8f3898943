"""Everything the caller hears, in Korean and English, plus the confirmation SMS.

Korean uses the polite 합니다/해요 register of public hotlines. Digits and numbers arrive already
spelled out for TTS (see `phones.speak_number`), so these functions only assemble sentences.
Menus are built from the config's option names, so renaming a field needs no code change.
"""

from __future__ import annotations

import phonenumbers

from callflows.call_actions import Pause, Prompt, Say
from callflows.flow_config import FlowConfig, MenuOption
from callflows.state import GENERAL_FIELD

PLUS = {"ko": "플러스", "en": "plus"}

TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        # "일삼칠구", not "1379": TTS would read the number as 천삼백칠십구
        "ko": "안녕하세요, 중소기업 기술애로 상담 일삼칠구입니다. "
        "전문위원이 직접 연락드려 기술 문제 해결을 도와드립니다.",
        "en": "Hello, this is 1 3 7 9, the technology help line for small and medium businesses. "
        "An expert will call you back to help with your technical problem.",
    },
    "restart": {
        "ko": "죄송합니다. 통화 정보를 찾지 못해 처음부터 다시 안내해 드릴게요.",
        "en": "Sorry, we lost track of your call, so let's start again from the beginning.",
    },
    "field_question": {
        "ko": "상담받으실 기술 분야를 선택해 주세요.",
        "en": "Please choose the technical field.",
    },
    "field_general_option": {"ko": "잘 모르시면 0번", "en": "If you're not sure, press 0."},
    "say_it_too": {"ko": "원하시는 항목을 말씀하셔도 됩니다.", "en": "You can also say your choice."},
    "switch_language": {"ko": "한국어 안내는 9번을 눌러 주세요.", "en": "For English, press 9."},
    "field_chosen": {"ko": "{name} 분야로 접수할게요.", "en": "Got it: {name}."},
    "field_general": {
        "ko": "일반 상담으로 접수할게요. 담당자가 내용을 확인하고 알맞은 전문위원을 연결해 드려요.",
        "en": "We'll file this as a general request, and a supervisor will pass it to the right expert.",
    },
    "support_question": {"ko": "필요하신 지원을 선택해 주세요.", "en": "What kind of help do you need?"},
    "support_chosen": {"ko": "{name}, 알겠습니다.", "en": "Got it: {name}."},
    "callback_question": {
        # "번호는 …입니다" rather than "… 번호로": 로/으로 would depend on the last digit
        "ko": "지금 거신 번호는 {number}입니다. 이 번호로 연락받으시려면 1번, "
        "다른 번호를 입력하시려면 2번을 눌러 주세요.",
        "en": "Shall our expert call you back on {number}? Press 1 for yes, or 2 to enter another number.",
    },
    "callback_number_question": {
        "ko": "연락받으실 전화번호를 지역번호부터 누르시고, 마지막에 우물 정 자를 눌러 주세요.",
        "en": "Please enter the number to call you back on, starting with the area code, "
        "then press the pound key.",
    },
    "callback_confirm_question": {
        "ko": "입력하신 번호는 {number}입니다. 맞으면 1번, 다시 입력하시려면 2번을 눌러 주세요.",
        "en": "You entered {number}. Press 1 if that's correct, or 2 to enter it again.",
    },
    "message_question": {
        "ko": "삐 소리가 나면 어떤 기술 문제로 전화하셨는지 회사 이름과 함께 {limit} 안에 말씀해 주세요. "
        "말씀을 마치시면 우물 정 자를 누르시거나 전화를 끊으셔도 됩니다.",
        "en": "After the beep, please tell us your company name and the technical problem, "
        "in up to {limit}. When you're done, press the pound key or simply hang up.",
    },
    "message_empty": {
        "ko": "녹음된 내용이 없었습니다. 한 번 더 말씀해 주세요.",
        "en": "We didn't hear anything. Please try once more.",
    },
    # why an input was refused: said before the question is asked again
    "no_input": {"ko": "입력이 없었습니다.", "en": "We didn't receive any input."},
    "invalid_key": {"ko": "입력하신 번호는 없는 번호입니다.", "en": "That key is not one of the options."},
    "not_understood": {"ko": "말씀을 정확히 알아듣지 못했습니다.", "en": "Sorry, I didn't catch that."},
    # the default taken after too many failed inputs at one step
    "field_default": {
        "ko": "분야를 확인하지 못해 일반 상담으로 접수할게요.",
        "en": "We couldn't get the field, so we'll file this as a general request.",
    },
    "support_default": {
        "ko": "지원 유형은 기타로 접수할게요.",
        "en": "We'll file the kind of help as other.",
    },
    "callback_default": {
        "ko": "지금 거신 번호로 연락드릴게요.",
        "en": "We'll call you back on the number you're calling from.",
    },
    "callback_number_default": {
        "ko": "번호를 확인하지 못했습니다. 용건을 남겨 주시면 그대로 접수해 드릴게요.",
        "en": "We couldn't get a callback number. Please leave a message and we'll still file your request.",
    },
    "callback_confirm_default": {
        "ko": "입력하신 번호로 연락드릴게요.",
        "en": "We'll call you back on the number you entered.",
    },
    "message_default": {
        "ko": "녹음 없이 접수할게요.",
        "en": "We'll file your request without a message.",
    },
    # farewell
    "filed": {"ko": "접수가 완료되었습니다.", "en": "Your request has been filed."},
    "reference": {"ko": "접수번호는 {reference}입니다.", "en": "Your reference number is {reference}."},
    "reference_again": {"ko": "다시 한 번 말씀드립니다. {reference}.", "en": "Once again, {reference}."},
    "promise": {
        "ko": "전문위원이 {days}일 이내 연락드립니다.",
        "en": "An expert will call you back within {days} days.",
    },
    "no_callback": {
        "ko": "연락받으실 번호가 없어 먼저 연락드리기 어렵습니다. 접수번호를 말씀하시고 다시 전화해 주세요.",
        "en": "We have no number to call you back on, so please call us again and quote your reference.",
    },
    "sms_notice": {"ko": "접수 내용은 문자로도 보내 드릴게요.", "en": "We'll also send you a text message."},
    "thanks": {"ko": "감사합니다.", "en": "Thank you for calling."},
    "apology": {
        "ko": "죄송합니다. 일시적인 문제로 안내를 계속할 수 없습니다. 삐 소리가 나면 회사 이름과 연락처, "
        "문의 내용을 남겨 주세요. 확인 후 연락드리겠습니다.",
        "en": "We're sorry, a temporary problem stops us from continuing. After the beep, please leave "
        "your company name, phone number and your question, and we'll call you back.",
    },
    # the confirmation SMS; its prefix is tickets.labels.SMS_PREFIX (this package may not import it)
    "sms": {
        "ko": "[1379 기술애로상담] 접수번호 {reference} ({field}). 전문위원이 {days}일 이내 연락드립니다. "
        "문의 {hotline}",
        "en": "[Hotline 1379] Reference {reference} ({field}). An expert will call you back within "
        "{days} days. Questions: {hotline}",
    },
}

NUMBER_PROBLEMS: dict[str, dict[str, str]] = {
    "empty": TEXTS["no_input"],
    "too_short": {
        "ko": "번호가 너무 짧습니다. 지역번호를 포함해 눌러 주세요.",
        "en": "That number is too short. Please include the area code.",
    },
    "too_long": {"ko": "번호가 너무 깁니다.", "en": "That number is too long."},
    "not_digits": {
        "ko": "별표는 사용할 수 없습니다. 숫자만 눌러 주세요.",
        "en": "Please use only the number keys, not the star key.",
    },
    "invalid": {"ko": "올바른 전화번호가 아닙니다.", "en": "That is not a valid phone number."},
    "not_callable": {
        "ko": "그 번호로는 연락드릴 수 없습니다. 휴대전화나 일반 전화번호를 입력해 주세요.",
        "en": "We can't call that kind of number back. Please enter a mobile or landline number.",
    },
}

GENERAL_NAMES = {"ko": "분야 미정", "en": "General"}  # the general pool's name everywhere (tickets.labels)


def text(key: str, language: str, **values: object) -> str:
    template = TEXTS[key]
    return (template.get(language) or template["ko"]).format(**values)


def say(key: str, language: str, **values: object) -> Say:
    return Say(text(key, language, **values), language)


def number_problem(reason: str, language: str) -> str:
    texts = NUMBER_PROBLEMS.get(reason, NUMBER_PROBLEMS["invalid"])
    return texts.get(language) or texts["ko"]


def _topic_particle(word: str) -> str:
    """은 after a final consonant ("장비활용은"), 는 after a vowel ("기타는").

    Looks at the last Hangul syllable; a name ending in Latin letters ("IT") takes 는.
    """
    for char in reversed(word):
        if "\uac00" <= char <= "\ud7a3":
            return "은" if (ord(char) - 0xAC00) % 28 else "는"
        if char.isalnum():
            return "는"
    return "는"


def _menu_items(options: tuple[MenuOption, ...], language: str, suffix: str = "") -> list[str]:
    """ "정보통신(IT) 분야는 1번" / "For IT, press 1." per option."""
    if language == "ko":
        return [
            f"{o.name('ko')}{suffix}{_topic_particle(suffix or o.name('ko'))} {o.digit}번" for o in options
        ]
    return [f"For {o.name('en')}, press {o.digit}." for o in options]


def _menu(items: list[str], language: str) -> str:
    if language == "ko":
        return ", ".join(items) + "을 눌러 주세요."
    return " ".join(items)


def _other_language(config: FlowConfig, language: str) -> str | None:
    other = "en" if language == "ko" else "ko"
    return other if other in config.languages else None


def field_menu(config: FlowConfig, language: str) -> tuple[Prompt, ...]:
    """The field question: options by digit, 0 for "not sure", and 9 in the other language."""
    prompts: list[Prompt] = [
        say("field_question", language),
        Say(
            _menu(
                _menu_items(config.fields, language, " 분야") + [text("field_general_option", language)],
                language,
            ),
            language,
        ),
        say("say_it_too", language),
    ]
    other = _other_language(config, language)
    if other is not None:
        # spoken in the other language: a caller who does not understand this one must understand it
        prompts.append(say("switch_language", other))
    return tuple(prompts)


def support_menu(config: FlowConfig, language: str) -> tuple[Prompt, ...]:
    return (
        say("support_question", language),
        Say(_menu(_menu_items(config.support_types, language), language), language),
        say("say_it_too", language),
    )


def field_name(config: FlowConfig, key: str | None, language: str) -> str:
    option = config.field_by_key(key or "")
    if option is not None:
        return option.name(language)
    return GENERAL_NAMES.get(language, GENERAL_NAMES["ko"])


def recording_limit(seconds: int, language: str) -> str:
    """ "2분" / "2 minutes" for whole minutes, else seconds."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes}분" if language == "ko" else f"{minutes} minute{'s' if minutes > 1 else ''}"
    return f"{seconds}초" if language == "ko" else f"{seconds} seconds"


def farewell_prompts(
    config: FlowConfig, language: str, spoken_reference: str, sms: bool, has_callback: bool
) -> tuple[Prompt, ...]:
    """Reference twice with pauses so it can be written down, the promise, the SMS notice."""
    prompts: list[Prompt] = [
        say("filed", language),
        Pause(1),
        say("reference", language, reference=spoken_reference),
        Pause(1),
        say("reference_again", language, reference=spoken_reference),
        Pause(1),
    ]
    if has_callback:
        prompts.append(say("promise", language, days=config.promise_days))
    else:
        prompts.append(say("no_callback", language))
    if sms:
        prompts.append(say("sms_notice", language))
    prompts.append(say("thanks", language))
    return tuple(prompts)


def display_number(e164: str) -> str:
    """ "+827040001379" -> "070-4000-1379" for people reading an SMS in Korea."""
    try:
        number = phonenumbers.parse(e164, "KR")
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == "KR":
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def confirmation_sms(config: FlowConfig, language: str, reference: str, field_key: str | None) -> str:
    """The short SMS sent after the call: reference, field, the promise and the hotline number."""
    return text(
        "sms",
        language,
        reference=reference,
        field=field_name(config, field_key or GENERAL_FIELD, language),
        days=config.promise_days,
        hotline=display_number(config.hotline_number),
    )
