"""A FlowConfig with the default fields and support types, as config.yaml ships them."""

from __future__ import annotations

import pytest

from callflows.flow_config import FlowConfig, Language, MenuOption


def _option(key: str, digit: str, ko: str, en: str, hints: str) -> MenuOption:
    return MenuOption(key=key, digit=digit, names={"ko": ko, "en": en}, hints=tuple(hints.split(", ")))


# as config.yaml ships them
FIELDS = (
    _option(
        "it",
        "1",
        "정보통신(IT)",
        "information and communication technology",
        "정보통신, 아이티, IT, 소프트웨어, 통신, 네트워크, software, computer",
    ),
    _option(
        "machinery", "2", "기계·소재", "machinery and materials", "기계, 소재, 금속, 재료, machine, materials"
    ),
    _option(
        "electronics",
        "3",
        "전기·전자",
        "electrical and electronics",
        "전기, 전자, 반도체, 회로, electric, electronics",
    ),
    _option("bio", "4", "바이오·의료", "bio and medical", "바이오, 의료, 생명, 제약, bio, medical"),
    _option(
        "chemistry",
        "5",
        "화학·공정",
        "chemistry and processes",
        "화학, 공정, 섬유, chemical, chemistry, process",
    ),
    _option(
        "energy",
        "6",
        "에너지·환경",
        "energy and environment",
        "에너지, 환경, 태양광, 배터리, energy, environment",
    ),
)

SUPPORT_TYPES = (
    _option(
        "equipment",
        "1",
        "장비활용",
        "equipment use",
        "장비, 시험, 분석, 시제품, equipment, testing, prototype",
    ),
    _option("advice", "2", "기술자문", "technical advice", "자문, 상담, advice, consulting"),
    _option(
        "rnd", "3", "연구개발", "research and development", "연구, 개발, 알앤디, R&D, research, development"
    ),
    _option("information", "4", "기술정보", "technical information", "정보, 특허, 동향, information, patent"),
    _option("transfer", "5", "기술이전", "technology transfer", "이전, 사업화, transfer, licensing"),
    _option("staffing", "6", "인력지원", "staffing", "인력, 채용, 파견, staffing, people"),
    _option("other", "0", "기타", "other", "기타, other"),
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
