"""A FlowConfig with the default fields and support types, as config.yaml ships them."""

from __future__ import annotations

import pytest

from callflows.config import FlowConfig, Language, MenuOption


def _option(key: str, digit: str, ko: str, en: str, *hints: str) -> MenuOption:
    return MenuOption(key=key, digit=digit, names={"ko": ko, "en": en}, hints=hints)


FIELDS = (
    _option("it", "1", "정보통신(IT)", "IT and telecommunications", "아이티", "소프트웨어", "software"),
    _option("machinery", "2", "기계·소재", "Machinery and materials", "금속", "mechanical"),
    _option("electronics", "3", "전기·전자", "Electrical and electronics", "반도체", "electric"),
    _option("bio", "4", "바이오·의료", "Bio and medical", "제약", "biotech", "medicine"),
    _option("chemistry", "5", "화학·공정", "Chemistry and processes", "chemical"),
    _option("energy", "6", "에너지·환경", "Energy and environment", "탄소", "environmental"),
)

SUPPORT_TYPES = (
    _option("equipment", "1", "장비활용", "Equipment use", "장비", "equipment"),
    _option("advice", "2", "기술자문", "Technical advice", "자문", "advice"),
    _option("rnd", "3", "연구개발", "Research and development", "연구", "개발", "R&D"),
    _option("information", "4", "기술정보", "Technical information", "정보", "information"),
    _option("transfer", "5", "기술이전", "Technology transfer", "이전", "transfer"),
    _option("staffing", "6", "인력지원", "Staffing", "인력", "staff"),
    _option("other", "0", "기타", "Other", "기타", "other"),
)


def make_config(**overrides: object) -> FlowConfig:
    values: dict[str, object] = {
        "hotline_number": "+827040001379",
        "languages": {
            "ko": Language("ko", "ko-KR", "Polly.Seoyeon"),
            "en": Language("en", "en-US", "Polly.Joanna"),
        },
        "fields": FIELDS,
        "support_types": SUPPORT_TYPES,
    }
    values.update(overrides)
    return FlowConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def config() -> FlowConfig:
    return make_config()
