"""Everything the caller hears, in Korean and English, plus the confirmation SMS.

Korean uses the polite 합니다/해요 register of public hotlines. Digits and numbers arrive already
spelled out for TTS (see `phones.speak_number`), so these functions only assemble sentences.
Menus are built from the config's option names, so renaming a field needs no code change.
"""

from __future__ import annotations

import string

import phonenumbers

from callflows.call_actions import Pause, Prompt, Say
from callflows.flow_config import FlowConfig, MenuOption
from callflows.state import GENERAL_FIELD

PLUS = {"ko": "플러스", "en": "plus"}

# The texts an operator is likely to edit; config.yaml's `prompts` section replaces them (ivr.config checks
# both languages and exactly these placeholders). The defaults here keep a config without the section working.
EDITABLE = ("greeting", "recording_notice", "repeat_notice", "missed_goodbye", "sms")

TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        # "일삼칠구", not "1379": TTS would read the number as 천삼백칠십구
        "ko": "안녕하세요, 기술애로 상담 일삼칠구입니다.",
        "en": "Hello, this is 1 3 7 9, technology help for small businesses.",
    },
    "restart": {
        "ko": "죄송합니다. 통화 정보를 찾지 못해 처음부터 다시 안내해 드릴게요.",
        "en": "Sorry, we lost track of your call, so let's start again from the beginning.",
    },
    # Every menu is interruptible: a key or speech answers it at any moment, so a caller who knows the
    # answer hears only the first words. The texts are kept short for those who listen to the end.
    "field_question": {"ko": "분야를 번호나 말로 골라 주세요.", "en": "Press or say your field:"},
    "field_general_option": {"ko": "잘 모르시면 0번", "en": "0 if not sure."},
    "switch_language": {"ko": "한국어는 9번.", "en": "For English, press 9."},
    "field_chosen": {"ko": "{name} 분야입니다.", "en": "{name}."},
    "field_general": {
        "ko": "일반 상담으로 받아, 알맞은 전문위원께 넘겨 드릴게요.",
        "en": "We'll take it as a general request and pass it to the right expert.",
    },
    "support_question": {"ko": "지원 종류를 골라 주세요.", "en": "The help you need:"},
    "callback_question": {
        # "번호는 …입니다" rather than "… 번호로": 로/으로 would depend on the last digit
        "ko": "연락드릴 번호는 {number}입니다. 맞으면 1번, 다른 번호는 2번.",
        "en": "Call you back on {number}? Press 1 for yes, 2 for another number.",
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
    # said once before the beep: what is recorded, why, and for how long (privacy issue, part 1)
    "recording_notice": {
        "ko": "남기신 내용은 상담에만 쓰이며 1년 후 삭제됩니다.",
        "en": "We keep your message one year, only to help you.",
    },
    "message_question": {
        "ko": "삐 소리 후 회사 이름과 문의 내용을 {limit} 안에 말씀하시고, 우물 정 자를 누르거나 끊으세요.",
        "en": "After the beep, tell us your company and problem in up to {limit}, then press pound.",
    },
    # a caller whose caller ID has an open ticket in the chosen field
    "repeat_notice": {"ko": "이미 접수된 상담이 있습니다.", "en": "You already have an open request."},
    "repeat_question": {
        "ko": "그 상담에 말씀을 더하시려면 1번, 새로 접수하시려면 2번.",
        "en": "Press 1 to add a message to it, or 2 for a new request.",
    },
    # a call with no input at all at the first menu: a missed call, not a request
    "missed_goodbye": {
        "ko": "입력이 없어 통화를 마칩니다. 언제든 다시 전화해 주세요.",
        "en": "We didn't hear from you, so we'll end the call. Please call again any time.",
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
    "message_added": {
        "ko": "기존 상담에 말씀을 더했습니다.",
        "en": "We've added your message to your request.",
    },
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


def configured_text(config: FlowConfig, key: str, language: str, **values: object) -> str:
    """An EDITABLE text as config.yaml words it (checked at start-up), else as shipped."""
    template = config.texts.get(key) or TEXTS[key]
    return (template.get(language) or template["ko"]).format(**values)


def say_configured(config: FlowConfig, key: str, language: str, **values: object) -> Say:
    return Say(configured_text(config, key, language, **values), language)


def placeholders(template: str) -> set[str]:
    """The {names} a text uses, for ivr.config to check an edited text against the shipped one."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


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


def _menu(options: tuple[MenuOption, ...], language: str, last: str = "") -> str:
    """ "정보통신(IT) 1번, 기계·소재 2번, …" / "1 for IT, 2 for …": the digit right after the name,
    with no words around each option, because a caller listens to the whole list."""
    if language == "ko":
        items = [f"{o.name('ko')} {o.digit}번" for o in options]
        return ", ".join([*items, last] if last else items) + "."
    items = [f"{o.digit} for {o.name('en')}" for o in options]
    return ", ".join([*items, last] if last else items) + ("" if last else ".")


def _other_language(config: FlowConfig, language: str) -> str | None:
    other = "en" if language == "ko" else "ko"
    return other if other in config.languages else None


def field_menu(config: FlowConfig, language: str) -> tuple[Prompt, ...]:
    """The field question: options by digit, 0 for "not sure", and 9 in the other language."""
    prompts: list[Prompt] = [
        say("field_question", language),
        Say(_menu(config.fields, language, text("field_general_option", language)), language),
    ]
    other = _other_language(config, language)
    if other is not None:
        # spoken in the other language: a caller who does not understand this one must understand it
        prompts.append(say("switch_language", other))
    return tuple(prompts)


def support_menu(config: FlowConfig, language: str) -> tuple[Prompt, ...]:
    return (say("support_question", language), Say(_menu(config.support_types, language), language))


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
    config: FlowConfig,
    language: str,
    spoken_reference: str,
    sms: bool,
    has_callback: bool,
    joined: bool = False,
) -> tuple[Prompt, ...]:
    """Reference twice with pauses so it can be written down, the promise, the SMS notice. A call that
    added its message to the caller's own open ticket hears that ticket's reference and no new promise."""
    prompts: list[Prompt] = [
        say("message_added" if joined else "filed", language),
        Pause(1),
        say("reference", language, reference=spoken_reference),
        Pause(1),
        say("reference_again", language, reference=spoken_reference),
        Pause(1),
    ]
    if joined:
        pass  # that ticket's promise and callback number stand
    elif has_callback:
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
    return configured_text(
        config,
        "sms",
        language,
        reference=reference,
        field=field_name(config, field_key or GENERAL_FIELD, language),
        days=config.promise_days,
        hotline=display_number(config.hotline_number),
    )
