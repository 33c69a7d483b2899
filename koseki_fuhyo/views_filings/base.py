"""What every 届出 screen shares: the gate, persons from a 戸籍 link or a 住民票コード, locks on the residents
concerned, the 確認 display of 戸籍・附票・住民票, and the 受付 page afterwards."""

from collections.abc import Callable, Iterable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from audit.gate import personal_data_view
from audit.visibility import hidden_names, mask_names
from common.confirm import DisplaySpec, EntryFlow
from registry import locks
from registry.choices import ResidentStatus
from registry.models import Resident, UsedSubmissionToken
from registry.views.changes.base import REGISTRY_SPECS

from ..choices import EntryStatus, FilingKind, KosekiStatus
from ..models import FilingPerson, FuhyoAddress, FuhyoEntry, Koseki, KosekiFiling

PERMISSION = "koseki_fuhyo.add_kosekifiling"


def _koseki_action(before: Koseki | None, after: Koseki) -> str:
    if before is None:
        return "編製（新しい戸籍）"
    if before.status == KosekiStatus.CURRENT and after.status == KosekiStatus.CLOSED:
        return "除籍"
    return "変更"


def _entry_action(before: FuhyoEntry | None, after: FuhyoEntry) -> str:
    if before is None:
        return "記載"
    if before.status == EntryStatus.CURRENT and after.status == EntryStatus.REMOVED:
        return "消除"
    return "記載の修正"


FILING_SPECS: tuple[DisplaySpec, ...] = (
    DisplaySpec(
        KosekiFiling,
        "戸籍届出",
        ("kind", "filed_on", "accepted_on", "received_at", "ward_role", "status", "recorded_on", "note"),
        title=lambda f: f"{f.get_kind_display()}",
        action=lambda before, after: "受付",
    ),
    DisplaySpec(
        FilingPerson,
        "届出の関係者",
        ("role", "surname", "given_name", "birth_date", "sex", "juminhyo_code", "address_municipality", "address"),
        title=lambda p: f"{p.get_role_display()} {p.surname}　{p.given_name}",
        parent=lambda p: (KosekiFiling, p.filing_id),
        assigned=("juminhyo_code",),
        subject_kind="filing_person",
        action=lambda before, after: "",
    ),
    DisplaySpec(
        Koseki,
        "戸籍",
        (
            "honseki_address",
            "hittousha_surname",
            "hittousha_given_name",
            "status",
            "formed_on",
            "formed_reason",
            "closed_on",
            "closed_reason",
        ),
        title=lambda k: f"本籍 {k.honseki_address}（筆頭者 {k.hittousha_name}）",
        action=_koseki_action,
    ),
    DisplaySpec(
        FuhyoEntry,
        "附票",
        (
            "koseki",
            "surname",
            "given_name",
            "surname_kana",
            "given_name_kana",
            "birth_date",
            "sex",
            "juminhyo_code",
            "status",
            "entered_on",
            "entered_reason",
            "removed_on",
            "removed_reason",
        ),
        title=lambda e: e.name,
        assigned=("juminhyo_code",),
        subject_kind="fuhyo_entry",
        action=_entry_action,
    ),
    DisplaySpec(
        FuhyoAddress,
        "附票の住所",
        ("municipality", "address", "is_abroad", "country", "established_on", "recorded_on", "reason"),
        title=lambda a: a.display,
        parent=lambda a: (FuhyoEntry, a.entry_id),
        action=lambda before, after: "追加" if before is None else "変更",
    ),
    *REGISTRY_SPECS,
)

MENU_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("出生", (FilingKind.BIRTH,)),
    ("死亡・失踪・国籍喪失", (FilingKind.DEATH, FilingKind.DISAPPEARANCE, FilingKind.NATIONALITY_LOSS)),
    ("婚姻", (FilingKind.MARRIAGE,)),
    (
        "入除籍を伴う届",
        (
            FilingKind.DIVORCE,
            FilingKind.DIVORCE_SURNAME,
            FilingKind.ADOPTION,
            FilingKind.ADOPTION_DISSOLUTION,
            FilingKind.ADOPTION_SURNAME,
            FilingKind.SPECIAL_ADOPTION,
            FilingKind.SPECIAL_ADOPTION_DISSOLUTION,
            FilingKind.SURNAME_RESTORATION,
            FilingKind.ENTRY,
            FilingKind.BRANCH,
        ),
    ),
    ("転籍", (FilingKind.HONSEKI_TRANSFER,)),
    ("氏・名・振り仮名の変更", (FilingKind.SURNAME_CHANGE, FilingKind.GIVEN_NAME_CHANGE, FilingKind.FURIGANA)),
    ("帰化・国籍取得・就籍", (FilingKind.NATURALIZATION, FilingKind.NATIONALITY_ACQUISITION, FilingKind.REGISTRATION)),
    (
        "記録のみの届",
        (
            FilingKind.RECOGNITION,
            FilingKind.PARENTAL_AUTHORITY,
            FilingKind.GUARDIANSHIP,
            FilingKind.AFFINITY_TERMINATION,
            FilingKind.DISINHERITANCE,
            FilingKind.NATIONALITY_RESERVATION,
            FilingKind.NATIONALITY_CHOICE,
            FilingKind.FOREIGN_NATIONALITY_LOSS,
        ),
    ),
)


def filing_title(kind: str) -> str:
    label = FilingKind(kind).label
    return label if label.endswith("届") else f"{label}届"


def current_resident_for(entry: FuhyoEntry) -> Resident | None:
    if not entry.juminhyo_code:
        return None
    return Resident.objects.filter(juminhyo_code=entry.juminhyo_code, status=ResidentStatus.CURRENT).first()


class FilingFlow(EntryFlow):
    """A 届出 screen. `?koseki=<id>` offers the members of that 戸籍 as the persons; `?code=<住民票コード>` fills the
    first person in."""

    token_model = UsedSubmissionToken
    specs = FILING_SPECS
    lock_refused = (locks.LockRefused,)
    form_template = "koseki_fuhyo/filings/form.html"
    form_class: type = None  # type: ignore[assignment]
    view_name = ""

    @property
    def kind(self) -> str:
        return self.kwargs["kind"]

    @property
    def purpose(self) -> str:  # type: ignore[override]
        return f"koseki_filings:{self.kind}"

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"{filing_title(self.kind)}の受付"

    def load(self) -> None:
        self.access.conditions["kind"] = self.kind
        self.koseki = None
        raw = self.request.GET.get("koseki", "")
        if raw:
            if not raw.isdigit():
                raise Http404("この戸籍はありません。")
            self.koseki = Koseki.objects.filter(pk=int(raw), status=KosekiStatus.CURRENT).first()
            if self.koseki is None:
                raise Http404("この戸籍はありません。")
            self.access.conditions["koseki"] = self.koseki.pk
        self.prefill = {}
        code = self.request.GET.get("code", "")
        if code.isdigit() and len(code) == 11:
            first = self.form_class.persons[0][0] if self.form_class.persons else None
            if first:
                self.prefill[f"{first}_code"] = code

    def form_kwargs(self, data=None) -> dict[str, Any]:
        """Extra arguments of the form; `data` is the input it is built with (the POST, or the token's)."""
        return {}

    def build_form(self, data=None):
        form = self.form_class(
            data,
            kind=self.kind,
            koseki=self.koseki,
            may_see=self.access.may_see,
            prefill=self.prefill,
            hidden_names=hidden_names(self.request.user),
            **self.form_kwargs(data),
        )
        if self.koseki is not None:  # the members offered as choices are shown
            self.access.show(*[e.pk for e in form.member_choices()])
        return form

    # --- locks: the residents the 届出 concerns -----------------------------------------------------------------

    def residents_of(self, form) -> list[Resident]:
        out = []
        for found in form.found.values():
            resident = found.resident or (current_resident_for(found.entry) if found.entry else None)
            if resident is not None:
                out.append(resident)
        return out

    def lock_keys(self, form=None) -> list:
        if form is None:
            return []
        return [locks.resident_key(r) for r in self.residents_of(form)] + self.extra_lock_keys(form)

    def extra_lock_keys(self, form) -> list:
        return []

    def koseki_member_keys(self, koseki: Koseki) -> list:
        keys = []
        for entry in koseki.entries.filter(status=EntryStatus.CURRENT):
            resident = current_resident_for(entry)
            if resident is not None:
                keys.append(locks.resident_key(resident))
        return keys

    def acquire_locks(self, keys: list) -> None:
        locks.acquire(self.request.user, keys, screen=self.purpose)

    def check_locks(self, keys: list) -> None:
        locks.refuse_if_held(self.request.user, keys)

    def release_locks(self, keys: list) -> None:
        locks.release(self.request.user, keys)

    # --- the access log: 附票 rows as the subjects, residents beside them ------------------------------------------

    def may_see(self, record) -> bool:
        if isinstance(record, FilingPerson):
            linked = [r for r in (record.fuhyo_entry, record.resident) if r is not None]
            return all(self.access.may_see(r) for r in linked)
        return self.access.may_see(record)

    def name_persons(self, by_kind: dict[str, list[int]]) -> None:
        self.access.show(*by_kind.get("fuhyo_entry", []))
        residents = by_kind.get("resident", [])
        if residents:
            known = self.access.conditions.setdefault("resident_ids", [])
            known.extend(pk for pk in residents if pk not in known)

    def persons_recorded(self, result) -> Iterable:
        return [e.pk for e in result.entries]

    # --- after recording ---------------------------------------------------------------------------------------

    def outcome(self, result) -> tuple[str, str]:
        url = reverse("koseki_filings:filing", args=[result.filing.pk])
        return url, f"{filing_title(self.kind)}を受け付け、記録しました（受付番号 {result.filing.pk}）。"

    def cancel_url(self) -> str:
        return reverse("koseki_filings:menu")

    def context(self) -> dict[str, Any]:
        hittousha = ""
        if self.koseki is not None:  # a restricted 筆頭者 is not named (audit.visibility)
            hittousha = mask_names(self.koseki.hittousha_name, hidden_names(self.request.user))
        return {
            "koseki": self.koseki,
            "koseki_hittousha": hittousha,
            "kind": self.kind,
            "kind_label": filing_title(self.kind),
        }


def screen(flow_class: type[FilingFlow], *, action: str, label: str) -> Callable[..., HttpResponse]:
    """The gated view of the screens of one 届出 service (the kind comes from the URL pattern)."""

    def view(request: HttpRequest, access, **kwargs: Any) -> HttpResponse:
        return flow_class(request, access, **kwargs).handle()

    view.__name__ = view.__qualname__ = flow_class.view_name
    view.__module__ = flow_class.__module__
    view.__doc__ = flow_class.__doc__
    return personal_data_view(PERMISSION, subject_kind="fuhyo_entry", action=action, label=label)(view)
