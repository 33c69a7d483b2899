"""本籍照合通知 (住基法19条2項) received: this ward is the 住所地 whose 附票記載事項通知 did not agree with the 本籍地's
戸籍 (a clerk there sent it, with the 戸籍-side values). It opens a correction task for a clerk: the 戸籍-side values
beside what we notified and what our 住民票 holds now. The clerk corrects the 住民票 (職権修正, which notifies the
本籍地 again) and marks the notice corrected, or dismisses it with a note."""

from __future__ import annotations

from registry.choices import ResidentStatus
from registry.models import Resident

from ..payloads import subject_code
from .base import Outcome, as_text, difference


def handle(notice) -> Outcome:
    payload = notice.payload
    resident = Resident.objects.filter(juminhyo_code=subject_code(payload), status=ResidentStatus.CURRENT).first()
    rows = [
        difference(
            d["item"],
            d["notified"],
            d["koseki"],
            juminhyo=as_text(getattr(resident, d["item"], None)) if resident is not None else None,
        )
        for d in payload["differences"]
    ]
    if not payload["found"]:
        problem = "本籍地の戸籍に該当者が見つからないとの本籍照合通知です。住民票の本籍・筆頭者を確認してください。"
    else:
        problem = "本籍地の戸籍と合わない項目があるとの本籍照合通知です。住民票を確認し、職権修正してください。"
    if resident is None:
        problem += "（この住民票コードの住民票は現存しません）"
    return Outcome.waiting(problem, differences=rows, resident=resident)


def review(notice) -> Outcome:
    """For a notice whose sender failed the authority rule: the same task (`handle` never changes anything)."""
    return handle(notice)
