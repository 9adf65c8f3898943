"""At most 40 s of prompts before the beep, measured on the TwiML of whole simulated calls.

The estimate is the one the issue used: Korean at about 6.5 syllables a second (Hangul syllables
counted), other text at about 14 characters a second, plus every <Pause>. A caller is assumed to
listen to each prompt to its end, as a new caller does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ivr.simulator import CallResult
from tests.ivr.conftest import PlaceCall

BUDGET_SECONDS = 40.0
KOREAN_HAPPY_PATH = "field=3,support_type=2,callback=1,message=record:30"
ENGLISH_HAPPY_PATH = "field=9,field=3,support_type=2,callback=1,message=record:30"


def spoken_seconds(text: str) -> float:
    syllables = sum("\uac00" <= c <= "\ud7a3" for c in text)
    others = sum(not ("\uac00" <= c <= "\ud7a3") and not c.isspace() for c in text)
    return syllables / 6.5 + others / 14


def seconds_before_the_beep(result: CallResult, after_pressing: str | None = None) -> float:
    """Prompts played from the first answer (or the one answering `after_pressing`) up to the first
    <Record> with a beep."""
    total = 0.0
    counting = after_pressing is None
    for exchange in result.exchanges:
        if not counting:
            counting = exchange.form.get("Digits") == after_pressing
            if not counting:
                continue
        if not exchange.reply.body.startswith("<?xml"):
            continue
        for verb in ET.fromstring(exchange.reply.body).iter():
            if verb.tag == "Say":
                total += spoken_seconds(verb.text or "")
            elif verb.tag == "Pause":
                total += int(verb.get("length", "1"))
            elif verb.tag == "Record" and verb.get("playBeep", "true") == "true":
                return total
    raise AssertionError("the call never reached the beep")


def test_the_estimate_counts_korean_syllables_and_other_characters() -> None:
    assert spoken_seconds("안녕하세요") == 5 / 6.5
    assert spoken_seconds("Press 1.") == 7 / 14


def test_a_korean_caller_hears_at_most_40_seconds_before_the_beep(place_call: PlaceCall) -> None:
    result = place_call(KOREAN_HAPPY_PATH)
    assert result.steps[-1] == "message" and result.ended_by == "hangup"
    seconds = seconds_before_the_beep(result)
    print(f"Korean: {seconds:.1f} s before the beep")
    assert seconds <= BUDGET_SECONDS


def test_an_english_caller_hears_at_most_40_seconds_after_pressing_9(place_call: PlaceCall) -> None:
    result = place_call(ENGLISH_HAPPY_PATH)
    assert result.steps[-1] == "message" and result.ended_by == "hangup"
    seconds = seconds_before_the_beep(result, after_pressing="9")
    print(f"English: {seconds:.1f} s before the beep")
    assert seconds <= BUDGET_SECONDS
