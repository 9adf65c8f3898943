"""Invented partner institutes for the demo: every field, support type, kind and column of the registry.

The names are made up, e-mail addresses are at example.org (reserved for examples) and phone numbers are
010-5555-7xxx, beside the demo consultants' 010-5555-0xxx: no real institute or person is contacted when a
demo referral's messages are delivered. They are written as the CSV of `hotline institutes import`, so the
demo also shows that format, and go through the same checks.
"""

# ruff: noqa: E501  (the CSV below keeps one institute a line, as the file people import does)

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from sqlalchemy.orm import Session

from tickets import institutes

DEMO_INSTITUTES_CSV = """\
key,name_ko,name_en,kind,regions,fields,support_types,keywords,contacts,active
demo-hanbit-mech,한빛기계소재연구원,Hanbit Institute of Machinery and Materials,research_institute,daejeon,machinery,equipment;rnd;advice,인장시험기;3차원 측정기;금속 3D 프린터,김하늘|sky.kim@example.org|010-5555-7001; 이바다|bada.lee@example.org|,yes
demo-saebit-test,새빛시험인증원,Saebit Testing and Certification,testing_body,gyeonggi;seoul,machinery;electronics;chemistry,equipment;information,성적서 발급;EMC 시험;환경 신뢰성 시험,박시험|test.park@example.org|010-5555-7002,yes
demo-nuri-it,누리정보통신진흥원,Nuri ICT Promotion Agency,other,seoul,it,advice;information;staffing,클라우드 바우처;보안 점검;SW 인력 매칭,최누리|nuri.choi@example.org|010-5555-7003,yes
demo-gaon-univ,가온대학교 산학협력단,Gaon University Industry Cooperation,university,daegu;gyeongbuk,it;electronics;machinery,rnd;transfer;staffing,기술이전;공동연구;현장실습 인력,정가온|gaon.jung@example.org|010-5555-7004; 한연구|research.han@example.org|,yes
demo-haeoreum-bio,해오름바이오의약센터,Haeoreum Bio-Medical Center,research_institute,chungbuk;sejong,bio,equipment;rnd;information,세포배양실;GMP 시설;동물실험,강해오름|sun.kang@example.org|010-5555-7005,yes
demo-purun-env,푸른에너지환경연구소,Purun Energy and Environment Lab,research_institute,jeonnam;gwangju,energy,equipment;rnd;advice,태양광 모듈 시험;ESS 안전성;배출가스 측정,윤푸른|purun.yoon@example.org|010-5555-7006,yes
demo-dasom-chem,다솜화학공정기술원,Dasom Chemical Process Institute,research_institute,ulsan;busan,chemistry,equipment;rnd;transfer,파일럿 플랜트;촉매 분석;GC-MS,장다솜|dasom.jang@example.org|010-5555-7007,yes
demo-mirae-tp,미래테크노파크,Mirae Technopark,technopark,chungnam;daejeon,machinery;electronics;energy;it,equipment;advice;staffing;other,시제품 제작;창업 보육;장비 공동활용,임미래|mirae.lim@example.org|010-5555-7008; 오지원|jiwon.oh@example.org|,yes
demo-byeol-univ,별빛과학기술대학교,Byeolbit University of Science and Technology,university,jeonbuk,bio;chemistry;energy,rnd;transfer;advice,특허 기술이전;바이오 소재;이차전지 소재,한별빛|byeol.han@example.org|010-5555-7009,yes
demo-ireum-elec,이음전자부품연구센터,Ieum Electronic Components Center,research_institute,gyeonggi,electronics;it,equipment;rnd;information,반도체 패키징;PCB 신뢰성;RF 챔버,조이음|ieum.cho@example.org|010-5555-7010,yes
demo-sarang-tp,사랑바다테크노파크,Sarangbada Technopark,technopark,gyeongnam;jeju,machinery;energy;bio,equipment;staffing;other,조선기자재;해양 바이오;풍력 부품,서바다|bada.seo@example.org|010-5555-7011,yes
demo-hanul-info,한울기술정보원,Hanul Technology Information Service,other,national,it;machinery;electronics;bio;chemistry;energy,information;advice;other,특허 동향;시장 보고서;기술 가치평가,문한울|hanul.moon@example.org|,yes
demo-gangwon-test,설악시험분석센터,Seorak Testing and Analysis Center,testing_body,gangwon;incheon,bio;chemistry,equipment;information,식품 성분 분석;화장품 안전성;미생물 시험,신설악|seorak.shin@example.org|010-5555-7013,yes
demo-old-lab,옛솔정밀측정소(협약 종료),Yetsol Precision Metrology (agreement ended),testing_body,daejeon,machinery,equipment,교정 서비스,구옛솔|yetsol.gu@example.org|010-5555-7014,no
"""


def seed_institutes(
    session: Session, *, field_keys: Sequence[str], support_type_keys: Sequence[str]
) -> list[str]:
    """Add the demo institutes that are missing (those already there, perhaps edited, are left alone);
    return the keys added. Institutes naming a field or support type this config lacks are skipped."""
    added = []
    for row in csv.DictReader(io.StringIO(DEMO_INSTITUTES_CSV)):
        if institutes.find(session, row["key"]) is not None:
            continue
        try:
            data = institutes.parse_row(row, field_keys=field_keys, support_type_keys=support_type_keys)
        except institutes.InvalidInstitute:
            continue  # a config without that field: the demo does without the institute
        institutes.save(session, data)
        added.append(data.key)
    return added
