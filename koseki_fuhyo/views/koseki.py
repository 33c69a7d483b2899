"""戸籍・附票 (koseki_fuhyo:koseki): the 戸籍 and every person of its 附票 with the address history.

Each person is checked on its own (access.may_see): a restricted person is one 「閲覧制限あり」 line, and when that
person is the 筆頭者 the heading does not name them either. A person who lives in the ward links to the 住民票."""

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from audit.gate import personal_data_view
from audit.visibility import hidden_names, mask_names
from registry.choices import ResidentStatus
from registry.models import Resident
from transfers.models import IdentifierSymbol

from ..models import FuhyoAddress, FuhyoEntry, Koseki
from ..views_filings.base import MENU_GROUPS, filing_title
from ..views_filings.base import PERMISSION as FILING_PERMISSION


@personal_data_view(
    "koseki_fuhyo.view_koseki", subject_kind="fuhyo_entry", action="koseki.koseki_detail", label="戸籍・附票"
)
def koseki_detail(request: HttpRequest, access, koseki_id: int) -> HttpResponse:
    koseki = get_object_or_404(Koseki, pk=koseki_id)
    entries = list(
        FuhyoEntry.objects.filter(koseki=koseki)
        .order_by("position")
        .prefetch_related(
            Prefetch(
                "addresses",
                queryset=FuhyoAddress.objects.select_related("municipality").order_by("established_on", "id"),
            )
        )
    )
    access.conditions = {"koseki_id": koseki.pk}
    access.show(entries)
    visible = {e.pk: access.may_see(e) for e in entries}
    residents: dict[str, int] = {}
    if request.user.has_perm("registry.view_resident"):
        codes = [e.juminhyo_code for e in entries if e.juminhyo_code and visible[e.pk]]
        residents = dict(
            Resident.objects.filter(juminhyo_code__in=codes, status=ResidentStatus.CURRENT).values_list(
                "juminhyo_code", "pk"
            )
        )
    # 情報提供用個人識別符号: masked only (the last four characters); never in clear, never logged.
    symbols = {
        s.juminhyo_code: s.masked
        for s in IdentifierSymbol.objects.filter(
            juminhyo_code__in=[e.juminhyo_code for e in entries if e.juminhyo_code and visible[e.pk]]
        )
    }
    persons = [
        {
            "symbol_masked": symbols.get(e.juminhyo_code, "") if visible[e.pk] else "",
            "entry": e,
            "visible": visible[e.pk],
            "addresses": list(e.addresses.all()) if visible[e.pk] else [],
            "resident_id": residents.get(e.juminhyo_code) if visible[e.pk] and e.juminhyo_code else None,
        }
        for e in entries
    ]
    hittousha = next((p for p in persons if p["entry"].position == 1), None)
    return render(
        request,
        "koseki_fuhyo/koseki.html",
        {
            "koseki": koseki,
            "persons": persons,
            "hittousha_masked": (hittousha is not None and not hittousha["visible"])
            or mask_names(koseki.hittousha_name, hidden_names(request.user)) != koseki.hittousha_name,
            "filing_groups": filing_groups(request, koseki),
        },
    )


def filing_groups(request: HttpRequest, koseki: Koseki) -> list[tuple[str, list[tuple[str, str]]]]:
    """The 届出 that can start from this 戸籍 (its members offered as the persons: `?koseki=`), grouped as on the
    届出受付 menu; none for a 除籍 or for a user who may not accept 届出."""
    if not koseki.is_current or not request.user.has_perm(FILING_PERMISSION):
        return []
    return [
        (label, [(filing_title(kind), f"{reverse(f'koseki_filings:{kind}')}?koseki={koseki.pk}") for kind in kinds])
        for label, kinds in MENU_GROUPS
    ]
