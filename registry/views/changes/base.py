"""What every 異動 screen shares: the gate, the locks, the 確認 display of 住民票・世帯・異動履歴, and where to go
after recording."""

from collections.abc import Callable, Iterable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from audit.gate import personal_data_view
from common.confirm import DisplaySpec, EntryFlow

from ... import locks
from ...choices import ResidentStatus
from ...forms.changes.base import MAX_ID
from ...models import Household, Resident, ResidentChange, UsedSubmissionToken

PERMISSION = "registry.add_residentchange"

RESIDENT_FIELDS = (
    "surname",
    "given_name",
    "surname_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "juminhyo_code",
    "household",
    "relationship",
    "address",
    "katagaki",
    "address_established_on",
    "became_resident_on",
    "honseki_municipality",
    "honseki_address",
    "hittousha_name",
    "previous_municipality",
    "previous_address",
    "status",
    "removed_on",
    "removal_reason",
    "moved_to_municipality",
    "moved_to_address",
    "moved_to_country",
)


def _resident_action(before: Resident | None, after: Resident) -> str:
    if before is None:
        return "記載"
    if before.status == ResidentStatus.CURRENT and after.status == ResidentStatus.REMOVED:
        return "消除（除票になります）"
    return "修正"


def _household_action(before: Household | None, after: Household) -> str:
    if before is None:
        return "新しい世帯"
    if before.dissolved_on is None and after.dissolved_on is not None:
        return "世帯の消滅"
    return "変更"


REGISTRY_SPECS: tuple[DisplaySpec, ...] = (
    DisplaySpec(
        Resident,
        "住民票",
        RESIDENT_FIELDS,
        title=lambda r: r.name,
        assigned=("juminhyo_code",),
        subject_kind="resident",
        action=_resident_action,
    ),
    DisplaySpec(
        Household,
        "世帯",
        ("number", "address", "katagaki", "formed_on", "dissolved_on"),
        title=lambda h: f"世帯 {h.number}",
        assigned=("number",),
        action=_household_action,
    ),
    DisplaySpec(
        ResidentChange,
        "異動履歴",
        (
            "reason",
            "change_class",
            "change_date",
            "notified_on",
            "previous_address",
            "new_address",
            "previous_head_name",
            "new_head_name",
            "previous_household_number",
            "new_household_number",
            "note",
        ),
        title=lambda c: c.get_reason_display(),
        parent=lambda c: (Resident, c.resident_id),
        action=lambda before, after: "記録",
    ),
)


def resident_url(resident_id: int | None) -> str:
    """The 住民票 page (registry:resident) the screen returns to, or the start page when there is none."""
    if resident_id is None:
        return reverse("home")
    return reverse("registry:resident", args=[resident_id])


class RegistryFlow(EntryFlow):
    """An 異動 screen: locks on 住民票 and 世帯, history shown on the 確認 screen, the 住民票 page afterwards."""

    token_model = UsedSubmissionToken
    specs = REGISTRY_SPECS
    lock_refused = (locks.LockRefused,)
    form_template = "registry/changes/form.html"
    view_name = ""
    reason_label = ""  # 「転居」… the name of the 異動 in messages

    @property
    def purpose(self) -> str:  # type: ignore[override]
        return f"registry_changes:{self.view_name}"

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"{self.reason_label}の入力"

    # --- records from the URL, opened through the gate -----------------------------------------------------------

    def open_household(self, household_id: int) -> Household:
        household = get_object_or_404(Household, pk=household_id)
        if not household.is_active:
            raise Http404("この世帯はすでに消滅しています。")
        members = list(household.current_members())
        for member in members:
            self.access.open(member)
        self.members = members
        return household

    def open_resident(self, resident_id: int, *, current: bool = True) -> Resident:
        resident = get_object_or_404(Resident.objects.select_related("household"), pk=resident_id)
        if current and resident.status != ResidentStatus.CURRENT:
            raise Http404("除票には、この異動を記録できません。")
        return self.access.open(resident)

    def selected_ids(self) -> list[int] | None:
        raw = self.request.GET.getlist("resident")
        ids = [int(v) for v in raw if v.isascii() and v.isdigit() and int(v) <= MAX_ID]  # not "²", not 10**30
        return ids or None

    # --- locks ---------------------------------------------------------------------------------------------------

    def acquire_locks(self, keys: list) -> None:
        locks.acquire(self.request.user, keys, screen=self.purpose)

    def check_locks(self, keys: list) -> None:
        locks.refuse_if_held(self.request.user, keys)

    def release_locks(self, keys: list) -> None:
        locks.release(self.request.user, keys)

    # --- after recording -----------------------------------------------------------------------------------------

    def primary_resident_id(self, result) -> int | None:
        return result.residents[0].pk if result.residents else None

    def outcome(self, result) -> tuple[str, str]:
        count = len({c.resident_id for c in result.changes})
        return resident_url(self.primary_resident_id(result)), f"{self.reason_label}を記録しました（{count}人）。"

    def persons_recorded(self, result) -> Iterable:
        return [r.pk for r in result.residents]

    def name_persons(self, by_kind: dict[str, list[int]]) -> None:
        self.access.show(*by_kind.get("resident", []))

    def cancel_url(self) -> str:
        return reverse("registry_changes:menu")

    def context(self) -> dict[str, Any]:
        return {
            "reason_label": self.reason_label,
            "household": getattr(self, "household", None),
            "members": getattr(self, "members", []),
        }


def screen(flow_class: type[RegistryFlow], *, action: str, label: str) -> Callable[..., HttpResponse]:
    """The gated view of one 異動 screen, logged as `action`."""

    def view(request: HttpRequest, access, **kwargs: Any) -> HttpResponse:
        return flow_class(request, access, **kwargs).handle()

    view.__name__ = view.__qualname__ = flow_class.view_name
    view.__module__ = flow_class.__module__
    view.__doc__ = flow_class.__doc__
    return personal_data_view(PERMISSION, subject_kind="resident", action=action, label=label)(view)
