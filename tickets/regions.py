"""Korea's regions (the 17 metropolitan cities and provinces), and where a landline's area code places a
company. Institutes are ranked nearest first by these keys.

The area code is read by phonenumbers' geocoder, the maintained table of Korean prefixes; a mobile or
070 number says nothing about where a company is, so it gives no region.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType, geocoder

# key -> Korean name. The keys are the geocoder's English names, lower-cased ("Sejong City" -> sejong).
REGIONS: dict[str, str] = {
    "seoul": "서울", "busan": "부산", "daegu": "대구", "incheon": "인천", "gwangju": "광주",
    "daejeon": "대전", "ulsan": "울산", "sejong": "세종", "gyeonggi": "경기", "gangwon": "강원",
    "chungbuk": "충북", "chungnam": "충남", "jeonbuk": "전북", "jeonnam": "전남", "gyeongbuk": "경북",
    "gyeongnam": "경남", "jeju": "제주", "national": "전국",
}  # fmt: skip
_BY_KOREAN_NAME = {name: key for key, name in REGIONS.items()}


def region_key(text: str) -> str | None:
    """A region key from a key or a Korean name ("daejeon", "대전"); None when it is neither."""
    text = text.strip()
    if text.lower() in REGIONS:
        return text.lower()
    return _BY_KOREAN_NAME.get(text)


def region_of_number(e164: str | None) -> str | None:
    """The region of a landline's area code (02 Seoul, 042 Daejeon …); None for mobiles and the rest."""
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, "KR")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 82 or phonenumbers.number_type(number) != PhoneNumberType.FIXED_LINE:
        return None
    name = geocoder.description_for_number(number, "en").lower().removesuffix(" city")
    return name if name in REGIONS else None
