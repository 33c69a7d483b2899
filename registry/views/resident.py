"""住民票 (registry:resident): one person with the 世帯, the 異動 history, the linked 附票 and the notices.

Every person printed on the page is checked, not only the subject: a restricted 世帯員 appears as 「閲覧制限あり」,
and the 附票 section needs the 附票 permission and may itself be restricted. Query count does not grow with the
number of 世帯員, 異動 or 附票 lines (a test holds it)."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from audit.gate import personal_data_view
from audit.visibility import RESTRICTED_LABEL, hidden_names, mask_name_fields, mask_names
from koseki_fuhyo.choices import EntryStatus
from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry
from transfers.selectors import notices_about_resident

from ..choices import ResidentStatus
from ..models import Resident

FUHYO_PERMISSION = "koseki_fuhyo.view_fuhyoentry"


@dataclass
class FuhyoSection:
    """The 附票 part of the page: absent (本籍 elsewhere or unknown), not permitted, masked, or the entry."""

    in_ward: bool = False
    permitted: bool = False
    entry: FuhyoEntry | None = None
    masked: bool = False
    addresses: list[FuhyoAddress] = field(default_factory=list)


@personal_data_view(
    "registry.view_resident", subject_kind="resident", action="resident.resident_detail", label="住民票"
)
def resident_detail(request: HttpRequest, access, resident_id: int) -> HttpResponse:
    resident = get_object_or_404(
        Resident.objects.select_related(
            "household", "honseki_municipality", "previous_municipality", "moved_to_municipality"
        ),
        pk=resident_id,
    )
    access.open(resident)
    members = [
        {"resident": m, "visible": m.pk == resident.pk or access.may_see(m), "is_subject": m.pk == resident.pk}
        for m in resident.household.members.filter(status=ResidentStatus.CURRENT).order_by("id")
    ]
    access.show(m["resident"] for m in members)
    changes = list(resident.changes.order_by("-change_date", "-id"))
    fuhyo = _fuhyo_section(request, access, resident)
    # Other people's names copied into this record (筆頭者, 世帯主 in 異動履歴, the 戸籍's 筆頭者) are masked when that
    # person is restricted for this user.
    names = hidden_names(request.user)
    mask_name_fields([resident], ("hittousha_name",), names)
    mask_name_fields(changes, ("previous_head_name", "new_head_name"), names)
    if fuhyo.entry is not None:
        if mask_names(fuhyo.entry.koseki.hittousha_name, names) != fuhyo.entry.koseki.hittousha_name:
            fuhyo.entry.koseki.hittousha_surname, fuhyo.entry.koseki.hittousha_given_name = RESTRICTED_LABEL, ""
    return render(
        request,
        "registry/resident.html",
        {
            "resident": resident,
            "members": members,
            "subject_in_household": any(m["is_subject"] for m in members),
            "changes": changes,
            "fuhyo": fuhyo,
            "notices": list(notices_about_resident(resident.pk)),
        },
    )


def _fuhyo_section(request: HttpRequest, access, resident: Resident) -> FuhyoSection:
    ward_code = settings.WARD_LG_CODE
    section = FuhyoSection(in_ward=resident.honseki_municipality_id == ward_code)
    if not section.in_ward or not resident.juminhyo_code:
        return section
    section.permitted = request.user.has_perm(FUHYO_PERMISSION)
    if not section.permitted:
        return section
    entry = (
        FuhyoEntry.objects.filter(juminhyo_code=resident.juminhyo_code, status=EntryStatus.CURRENT)
        .select_related("koseki")
        .prefetch_related(
            Prefetch("addresses", queryset=FuhyoAddress.objects.select_related("municipality").order_by("id"))
        )
        .first()
    )
    if entry is None:
        return section
    if not access.may_see(entry):
        section.masked = True
        return section
    section.entry = entry
    section.addresses = list(entry.addresses.all())
    access.conditions["fuhyo_entry_ids"] = [entry.pk]
    return section
