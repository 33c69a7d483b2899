"""The 異動入力 menu, finding the 世帯 or 住民票 an 異動 starts from, and the supervisor's list of locks."""

import unicodedata
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from audit.gate import personal_data_view
from common.roles import VIEW_LOCK_LIST

from ... import locks
from ...choices import ResidentStatus
from ...models import EditLock, Household, Resident
from .base import PERMISSION


@dataclass(frozen=True)
class Kind:
    view_name: str
    label: str
    starts_from: str  # "nothing", "household", "resident", "any_resident"
    description: str


KINDS: tuple[tuple[str, tuple[Kind, ...]], ...] = (
    (
        "記載",
        (
            Kind("move_in", "転入（国外転入を含む）", "nothing", "他の市区町村または国外から区内に住所を定めた人"),
            Kind("birth", "出生", "household", "生まれた子を、その世帯に記載します"),
            Kind("ex_officio_entry", "職権記載", "nothing", "届出によらず区が記載する住民票"),
        ),
    ),
    (
        "修正",
        (
            Kind("move_within", "転居", "household", "区内での住所の変更（世帯全員・一部・他の世帯へ）"),
            Kind("change_household_head", "世帯主変更", "household", "世帯主が替わる"),
            Kind("split_household", "世帯分離", "household", "同じ住所で世帯を分ける"),
            Kind("merge_households", "世帯合併", "household", "同じ住所の世帯を一つにする"),
            Kind("ex_officio_amendment", "職権修正（誤記修正）", "any_resident", "住民票・除票の記載の修正"),
        ),
    ),
    (
        "消除",
        (
            Kind("move_out", "転出（国外転出を含む）", "household", "区外・国外へ住所を移す人"),
            Kind("death", "死亡", "resident", "住民票を除票にします"),
            Kind("ex_officio_removal", "職権消除", "household", "実態調査などによる消除"),
        ),
    ),
)
KIND_BY_NAME = {kind.view_name: kind for _, kinds in KINDS for kind in kinds}


@login_required
@permission_required(PERMISSION, raise_exception=True)
def menu(request: HttpRequest) -> HttpResponse:
    """Lists the 異動 kinds (no personal data): 転入 and 職権記載 start from nothing, the others from a 世帯番号 or
    a 住民票コード."""
    groups = [
        (
            label,
            [
                (kind, reverse(f"registry_changes:{kind.view_name}")) if kind.starts_from == "nothing" else (kind, "")
                for kind in kinds
            ],
        )
        for label, kinds in KINDS
    ]
    return render(request, "registry/changes/menu.html", {"groups": groups, "title": "異動入力"})


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().replace("-", "")


@personal_data_view(PERMISSION, subject_kind="resident", action="menu.find", label="異動入力（対象の検索）")
def find(request: HttpRequest, access, kind: str) -> HttpResponse:
    """Opens the screen of an 異動 for the 世帯 or 住民票 the clerk names (世帯番号 or 住民票コード)."""
    spec = KIND_BY_NAME.get(kind)
    if spec is None or spec.starts_from == "nothing":
        raise Http404("この異動はありません。")
    query = _normalise(request.GET.get("q", ""))
    access.conditions = {"kind": kind, "q": query}
    resident = None
    household = None
    if len(query) == 11 and query.isdigit():
        residents = Resident.objects.filter(juminhyo_code=query).select_related("household")
        if spec.starts_from != "any_resident":
            residents = residents.filter(status=ResidentStatus.CURRENT)
        resident = residents.order_by("-status", "-id").first()  # 現存 before 除票
        if resident is None:
            raise Http404("この住民票コードの住民票はありません。")
        access.open(resident)
        household = resident.household
    elif query.isdigit():
        household = Household.objects.filter(number=query, dissolved_on__isnull=True).first()
        if household is None or spec.starts_from in ("resident", "any_resident"):
            raise Http404("該当する世帯はありません（住民票コード11桁で指定する異動もあります）。")
    else:
        raise Http404("世帯番号または住民票コード（11桁）を入力してください。")
    if spec.starts_from in ("resident", "any_resident"):
        return redirect("registry_changes:" + kind, resident_id=resident.pk)
    url = reverse("registry_changes:" + kind, kwargs={"household_id": household.pk})
    if resident is not None:
        url += f"?resident={resident.pk}"
    return redirect(url)


@personal_data_view(VIEW_LOCK_LIST, subject_kind="resident", action="menu.lock_list", label="編集中の一覧（排他制御）")
def lock_list(request: HttpRequest, access) -> HttpResponse:
    """編集中の一覧 (排他制御), for supervisors: which clerk holds which record since when. No names of residents."""
    rows = [
        {"lock": lock, "message": locks.refusal_message(lock), "holder": locks.holder_name(lock.holder)}
        for lock in locks.live_locks().order_by("acquired_at")[:500]
    ]
    access.show(*[row["lock"].subject_id for row in rows if row["lock"].subject_kind == EditLock.Subject.RESIDENT])
    return render(request, "registry/changes/locks.html", {"rows": rows, "title": "編集中の一覧（排他制御）"})
