"""The public pages' words, Korean first and English: labels, problems and refusals (tickets.web_requests)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "hotline": {"ko": "중소기업 기술애로 상담 1379", "en": "Hotline 1379"},
    "switch": {"ko": "English", "en": "한국어"},
    "request_title": {"ko": "기술지원 상담 신청", "en": "Ask for technical help"},
    "request_intro": {
        "ko": "전화 1379와 같은 상담입니다. 신청하시면 분야 전문위원이 {days}일 이내 연락드립니다.",
        "en": "The same help as calling 1379: an expert of your field will call you back within {days} days.",
    },
    "company": {"ko": "회사명", "en": "Company name"},
    "contact_person": {"ko": "담당자 성함", "en": "Contact person"},
    "field": {"ko": "기술 분야", "en": "Technical field"},
    "not_sure": {"ko": "잘 모르겠음", "en": "Not sure"},
    "support_type": {"ko": "지원 유형", "en": "Kind of help"},
    "choose": {"ko": "선택하세요", "en": "Choose"},
    "callback_number": {"ko": "연락받을 휴대전화 번호", "en": "Mobile number to call you back on"},
    "callback_hint": {
        "ko": "이 번호로 인증번호 문자를 보내 드립니다.",
        "en": "We will text a code to this number to check it.",
    },
    "description": {"ko": "문의 내용", "en": "Your question"},
    "description_hint": {"ko": "{max}자 이내", "en": "At most {max} characters"},
    "notice_title": {"ko": "개인정보 수집·이용 안내", "en": "How we use your data"},
    "consent": {"ko": "위 내용에 동의합니다 (필수)", "en": "I agree (required)"},
    "privacy_link": {"ko": "개인정보 처리방침 전문", "en": "Full privacy notice"},
    "send_code": {"ko": "인증번호 받기", "en": "Send me a code"},
    "code_title": {"ko": "휴대전화 번호 확인", "en": "Check your mobile number"},
    "code_sent": {
        "ko": "{number}(으)로 6자리 인증번호를 보냈습니다. {minutes}분 안에 입력하세요.",
        "en": "We texted a 6-digit code to {number}. Enter it within {minutes} minutes.",
    },
    "code": {"ko": "인증번호", "en": "Code"},
    "confirm": {"ko": "확인하고 접수하기", "en": "Confirm and send"},
    "new_code": {"ko": "인증번호 다시 받기", "en": "Send a new code"},
    "start_again": {"ko": "처음부터 다시 신청하기", "en": "Start again"},
    "done_title": {"ko": "접수되었습니다", "en": "Your request has been filed"},
    "done_reference": {"ko": "접수번호", "en": "Reference"},
    "done_promise": {
        "ko": "전문위원이 {days}일 이내 연락드립니다. 접수번호는 문자로도 보내 드렸습니다.",
        "en": "An expert will call you back within {days} days. We have also texted you the reference.",
    },
    "done_call": {"ko": "문의: 국번 없이 1379", "en": "Questions: call 1379"},
    # problems with an answer
    "required": {"ko": "입력하세요.", "en": "Please fill this in."},
    "too_long": {"ko": "너무 깁니다.", "en": "This is too long."},
    "not_mobile": {
        "ko": "문자를 받을 수 있는 휴대전화 번호를 입력하세요.",
        "en": "Please enter a mobile number that can receive text messages.",
    },
    "consent_needed": {"ko": "동의하셔야 신청할 수 있습니다.", "en": "Please agree to send your request."},
    "problems": {"ko": "입력 내용을 확인하세요.", "en": "Please check your answers."},
    # refusals
    "too_many_codes": {
        "ko": "인증번호를 너무 많이 요청하셨습니다. 한 시간 후 다시 시도하시거나 1379로 전화하세요.",
        "en": "Too many codes were asked for. Please try again in an hour, or call 1379.",
    },
    "wrong_code": {
        "ko": "인증번호가 맞지 않습니다. {tries}번 더 입력할 수 있습니다.",
        "en": "That code is not right. You can try {tries} more times.",
    },
    "no_tries_left": {
        "ko": "인증번호를 너무 많이 틀렸습니다. 새 인증번호를 받으세요.",
        "en": "Too many wrong codes. Please ask for a new code.",
    },
    "expired": {
        "ko": "인증번호의 유효 시간이 지났습니다. 새 인증번호를 받으세요.",
        "en": "The code has expired. Please ask for a new code.",
    },
    "not_found": {
        "ko": "신청 내용을 찾을 수 없습니다. 처음부터 다시 신청해 주세요.",
        "en": "We cannot find your request. Please start again.",
    },
}


def text(key: str, language: str, **values: object) -> str:
    words = TEXTS[key]
    return (words.get(language) or words["ko"]).format(**values)
