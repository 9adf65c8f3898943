"""Understanding what the caller said: a menu option by name or number, yes/no, a language.

Speech recognition returns loose text ("바이오 분야요.", "IT요", "Number one."). Matching is
deliberately simple and predictable: normalise, then look for option names and hints. Two different
options heard in one utterance is ambiguous and treated as no match, so the caller is asked again
rather than routed to the wrong expert.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from callflows.flow_config import MenuOption

MAX_SPEECH_CHARS = 300  # an answer to a menu is a few words; the rest of a long transcript is noise

_KOREAN_DIGIT_WORDS = dict(zip("영공일이삼사오육륙칠팔구", "001234566789", strict=True))
_ENGLISH_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "to": "2", "too": "2", "three": "3", "four": "4",
    "for": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
# A digit as the whole answer, with the words around it that do not change it:
# "1번이요", "일 번 눌러 주세요", "이요", "number one please".
_KOREAN_NUMBER = re.compile(
    r"(?P<digit>[0-9]|[영공일이삼사오육륙칠팔구])\s?번?\s?(?:이요|이에요|예요|입니다|요|을|를)?"
    r"(?:\s?(?:눌러|누를게요|눌러요|선택|할게요|해|주세요|요))*"
)
_ENGLISH_NUMBER = re.compile(
    r"(?:(?:number|option|press|pressed|it's|it is|the)\s)*"
    rf"(?P<digit>[0-9]|{'|'.join(_ENGLISH_DIGIT_WORDS)})(?:\s(?:please|thanks|thank you))?"
)
_YES_KO = ("네", "예", "응", "맞", "좋아", "그래", "그렇")
_NO_KO = ("아니", "아뇨", "다른", "틀려", "틀렸", "바꿀", "말고")
_YES_EN = {"yes", "yeah", "yep", "yup", "correct", "right", "sure", "ok", "okay"}
_NO_EN = {"no", "nope", "not", "another", "different", "wrong", "change"}
_THIS_NUMBER = ("이번호", "지금번호", "이전화", "thisnumber", "thatnumber")
_LANGUAGE_WORDS = {"en": ("english", "영어", "잉글리시"), "ko": ("korean", "한국어", "한국말", "코리안")}


def normalise(text: str | None, keep_case: bool = False) -> str:
    """Lower case, full-width folded, punctuation turned into spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKC", (text or "")[: MAX_SPEECH_CHARS * 2])
    text = text if keep_case else text.lower()
    text = "".join(c if c.isalnum() or c == "'" else " " for c in text)
    return " ".join(text.split())[:MAX_SPEECH_CHARS]


def _is_acronym(term: str) -> bool:
    """ "IT", "R&D": matched in capitals only, or "it" in "it is machinery" would pick IT."""
    letters = [c for c in term if c.isalpha()]
    return 0 < len(letters) <= 4 and all(c.isascii() and c.isupper() for c in letters)


def _is_hangul(text: str) -> bool:
    return any("\uac00" <= c <= "\ud7a3" for c in text)


@lru_cache(maxsize=512)
def _term_pattern(term: str) -> re.Pattern[str] | None:
    """A pattern for one name or hint. Korean terms match inside words ("바이오분야요" has "바이오"
    with a particle attached) and across spaces; Latin terms only as whole words, so "it" does not
    match "it's" or "bit"."""
    words = normalise(term, keep_case=_is_acronym(term)).split()
    compact = "".join(words)
    if not compact:
        return None
    if _is_hangul(compact):
        return re.compile(r"\s?".join(re.escape(c) for c in compact))
    body = r"\s?".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![A-Za-z0-9']){body}(?![A-Za-z0-9'])")


def option_terms(option: MenuOption) -> tuple[str, ...]:
    """Everything a caller may say for an option: its names, their parts, and its hints.

    "기계·소재" also yields "기계" and "소재"; "정보통신(IT)" yields "정보통신" and "IT".
    """
    terms: list[str] = []
    for name in option.names.values():
        terms.append(name)
        terms.extend(p for p in re.split(r"[()·/,&\[\]]+|\band\b", name) if p.strip())
    terms.extend(option.hints)
    return tuple(dict.fromkeys(t.strip() for t in terms if t.strip()))


def spoken_number(text: str | None) -> str | None:
    """The single digit a caller said as a whole answer ("1번이요", "일 번", "number one"), else None.

    Only whole answers count: "이번" inside a sentence ("이번에 …") is not the digit 2.
    """
    words = normalise(text)
    match = _KOREAN_NUMBER.fullmatch(words) or _ENGLISH_NUMBER.fullmatch(words)
    if match is None:
        return None
    digit = match.group("digit")
    return _KOREAN_DIGIT_WORDS.get(digit) or _ENGLISH_DIGIT_WORDS.get(digit) or digit


def match_option(text: str | None, options: Iterable[MenuOption]) -> str | None:
    """The key of the one option named in `text`, or None when none or several are named.

    A match inside a longer match of another option is dropped, so a short hint of one option that
    happens to be part of another option's longer name does not make the answer ambiguous.
    """
    cased = normalise(text, keep_case=True)
    words = cased.lower()
    if not words:
        return None
    if len(words) != len(cased):  # a rare letter whose lower case is longer: give up on case
        cased = words
    spans: list[tuple[int, int, str]] = []
    for option in options:
        for term in option_terms(option):
            pattern = _term_pattern(term)
            if pattern is not None:
                haystack = cased if _is_acronym(term) else words
                spans.extend((m.start(), m.end(), option.key) for m in pattern.finditer(haystack))
    keys = {
        key
        for start, end, key in spans
        if not any(k != key and s <= start and end <= e and e - s > end - start for s, e, k in spans)
    }
    return keys.pop() if len(keys) == 1 else None


def yes_or_no(text: str | None) -> bool | None:
    """True for "네 / yes", False for "아니요 / another number", None when unclear or both."""
    words = normalise(text)
    tokens = words.split()
    compact = words.replace(" ", "")
    yes = any(t.startswith(_YES_KO) or t in _YES_EN for t in tokens) or any(
        p in compact for p in _THIS_NUMBER
    )
    no = any(t.startswith(_NO_KO) or t in _NO_EN for t in tokens)
    return yes if yes != no else None


def requested_language(text: str | None) -> str | None:
    """ "English, please" -> "en"; "한국어로요" -> "ko"; otherwise None."""
    words = normalise(text)
    found = {code for code, names in _LANGUAGE_WORDS.items() if any(n in words for n in names)}
    return found.pop() if len(found) == 1 else None
