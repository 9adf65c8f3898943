"""GET /privacy: the privacy notice, in Korean and English, written from config.yaml: the notice callers hear
(`prompts.recording_notice`), what is kept and for how long (`privacy.retention`, `privacy.access_log_years`),
who to ask (`privacy.contact`) and how to ask for deletion. A change of the settings changes the page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template

from callflows.prompts import display_number
from tickets.public import bp, language, recording_notice


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: list[str]


def _sections(lang: str) -> list[Section]:
    hotline = current_app.config["HOTLINE"]
    privacy, kept = hotline.privacy, hotline.privacy.retention
    phone = display_number(privacy.contact_phone or hotline.flow.hotline_number)
    contact = privacy.contact_name.get(lang) or privacy.contact_name["ko"]
    email = privacy.contact_email
    if lang == "en":
        return [
            Section("What we keep", [
                "Calls: the number you call from, the number to call you back on, the field and kind of "
                "help you chose, and your recorded message.",
                "Web requests: your company's name, the contact person, your mobile number, your question.",
                "The experts' notes on your request, and a record of every staff access to your data.",
            ]),
            Section("Why", [
                "Only to connect you with an expert and the right partner institute, to call you back, "
                "and for anonymous statistics of the hotline's work.",
            ]),
            Section("For how long", [
                f"Recordings, and a web request's contact person and question, are deleted "
                f"{kept.recordings_days} days after the request is closed.",
                f"Phone numbers are masked {kept.numbers_years} years after it is closed; statistics stay.",
                f"Unfinished calls and requests are anonymised after {kept.incomplete_days} days; a web "
                "request whose number was not confirmed is deleted within a day.",
                f"The record of staff accesses is kept {privacy.access_log_years} years.",
            ]),
            Section("Who to contact", [f"{contact}: {phone}" + (f", {email}" if email else "")]),
            Section("Asking for deletion", [
                "Call or write to the contact above with your reference number. Once we have checked "
                "that the request is yours, we delete your recordings and numbers and tell you.",
            ]),
        ]  # fmt: skip
    return [
        Section("수집하는 정보", [
            "전화: 발신 번호, 연락받을 번호, 선택하신 분야와 지원 유형, 남기신 녹음.",
            "웹 신청: 회사명, 담당자 성함, 휴대전화 번호, 문의 내용.",
            "상담 내용에 대한 전문위원의 기록, 그리고 직원이 개인정보를 열람한 모든 기록(접속기록).",
        ]),
        Section("이용 목적", [
            "전문위원과 협력기관 연계, 회신 전화, 그리고 개인을 알 수 없는 상담 통계에만 씁니다.",
        ]),
        Section("보관 기간", [
            f"녹음과 웹 신청의 담당자 성함·문의 내용은 상담이 종료된 후 {kept.recordings_days}일이 지나면 "
            "삭제합니다.",
            f"전화번호는 상담 종료 {kept.numbers_years}년 후 가려서(010-****-5678) 보관하며, "
            "통계는 남습니다.",
            f"끝나지 않은 통화와 신청은 {kept.incomplete_days}일 후 익명 처리하며, "
            "번호 확인을 마치지 않은 웹 신청은 하루 안에 삭제합니다.",
            f"직원의 접속기록은 {privacy.access_log_years}년간 보관합니다.",
        ]),
        Section("문의처", [f"{contact}: {phone}" + (f", {email}" if email else "")]),
        Section("삭제 요청 방법", [
            "위 문의처로 접수번호와 함께 전화나 메일로 요청하세요. 본인의 요청임을 확인한 후 "
            "녹음과 번호를 삭제하고 결과를 알려 드립니다.",
        ]),
    ]  # fmt: skip


@bp.get("/privacy")
def privacy_notice() -> str:
    lang = language()
    return render_template(
        "public/privacy.html", lang=lang, notice=recording_notice(), sections=_sections(lang)
    )
