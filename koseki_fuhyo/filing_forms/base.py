"""What every 届出 form shares: the 届出日・受理日・受理地, a person on the 届書 (found by 住民票コード, picked from
a 戸籍, or typed in for a person outside the ward), and the 戸籍 a person enters (one of the ward's, or a new 本籍)."""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.visibility import mask_names
from common.forms import KanaField, MunicipalityField, ServiceErrorsMixin, WarekiDateField
from common.items import IDENTITY_ITEMS
from registry.choices import ResidentStatus, Sex
from registry.models import Household, Resident

from ..choices import EntryStatus, FilingKind, FilingPersonRole, WardRole
from ..models import FuhyoEntry, Koseki
from ..services.filings import FiledPerson, FilingHeader, KosekiPlace


def entry_label(entry: FuhyoEntry) -> str:
    return f"{entry.name}（{entry.name_kana}）"


class KosekiRefField(forms.CharField):
    """A current 戸籍 of the ward: by its 本籍（地番）, by the 住民票コード of a person in it, or as `#<番号>` (what
    the link from a 戸籍 page fills in)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("help_text", "本籍（地番）、在籍者の住民票コード、または #戸籍番号")
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("size", 40)
        self.widget.attrs.setdefault("autocomplete", "off")
        self.hidden_names: frozenset[str] = frozenset()  # persons restricted for the user: a 筆頭者 not named

    def _hittousha(self, koseki: Koseki) -> str:
        return mask_names(koseki.hittousha_name, self.hidden_names)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Koseki):
            return f"#{value.pk} {value.honseki_address}（筆頭者 {self._hittousha(value)}）"
        return value

    def clean(self, value: Any) -> Koseki | None:
        text = super().clean(value)
        if text in self.empty_values:
            return None
        text = unicodedata.normalize("NFKC", text).strip()
        current = Koseki.objects.filter(status="current")
        if text.startswith("#"):
            number = text[1:].split(" ", 1)[0]
            koseki = current.filter(pk=int(number)).first() if number.isdigit() else None
            if koseki is None:
                raise ValidationError(f"戸籍 {text.split(' ', 1)[0]} は区の現在戸籍にありません。")
            return koseki
        if len(text) == 11 and text.isdigit():
            entry = FuhyoEntry.objects.filter(juminhyo_code=text, status=EntryStatus.CURRENT).first()
            if entry is None:
                raise ValidationError("この住民票コードの人は区の戸籍に在籍していません。")
            return entry.koseki
        found = list(current.filter(honseki_address=text)[:6])
        if not found:
            raise ValidationError(f"本籍「{text}」の戸籍は区にありません。")
        if len(found) > 1:
            names = "、".join(f"#{k.pk}（筆頭者 {self._hittousha(k)}）" for k in found[:5])
            raise ValidationError(f"本籍「{text}」の戸籍が複数あります：{names}。#番号で指定してください。")
        return found[0]


class HouseholdNumberField(forms.CharField):
    """A current 世帯 of the ward by its 世帯番号."""

    def clean(self, value: Any) -> Household | None:
        text = super().clean(value)
        if text in self.empty_values:
            return None
        number = unicodedata.normalize("NFKC", text).strip()
        household = Household.objects.filter(number=number, dissolved_on__isnull=True).first()
        if household is None:
            raise ValidationError(f"世帯番号 {number} の世帯は区にありません。")
        return household


@dataclass
class Found:
    """A person on the 届書, as the registers know them."""

    entry: FuhyoEntry | None = None
    resident: Resident | None = None


class FilingForm(ServiceErrorsMixin, forms.Form):
    """The 届出 header, plus the persons and places a kind needs (added by `add_fields`).

    `fieldsets()` groups the fields for the screen: (legend, [field names])."""

    persons: tuple[tuple[str, str, str, bool], ...] = ()  # (prefix, legend, role, required)
    ward_role_default = WardRole.HONSEKICHI

    def __init__(
        self,
        *args: Any,
        kind: str,
        koseki: Koseki | None = None,
        may_see: Callable[[Any], bool] = lambda obj: True,
        prefill: dict[str, str] | None = None,
        hidden_names: frozenset[str] = frozenset(),
        **kwargs: Any,
    ) -> None:
        self.kind = kind
        self.koseki = koseki
        self.may_see = may_see
        self.found: dict[str, Found] = {}
        self.required_persons: dict[str, bool] = {}
        self.values: dict[str, Any] = {}
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["filed_on"] = WarekiDateField(label="届出日", initial=today)
        self.fields["accepted_on"] = WarekiDateField(label="受理日", required=False, help_text="空欄は届出日と同じ")
        self.fields["received_at"] = MunicipalityField(label="受理地", required=False, help_text="空欄はこの区")
        self.fields["ward_role"] = forms.ChoiceField(
            label="区の立場", choices=WardRole.choices, initial=self.ward_role_default
        )
        self.fields["note"] = forms.CharField(label="備考", max_length=200, required=False)
        for prefix, legend, _role, required in self.persons:
            self.add_person_fields(prefix, legend, required=required)
        self.add_fields()
        for name, value in (prefill or {}).items():
            if name in self.fields and not self.is_bound:
                self.fields[name].initial = value
        for field in self.fields.values():
            if isinstance(field, KosekiRefField):
                field.hidden_names = hidden_names

    def add_fields(self) -> None:
        """Kind-specific fields."""

    def header_fieldset(self) -> tuple[str, list[str]]:
        return ("届出", ["filed_on", "accepted_on", "received_at", "ward_role", "note"])

    def fieldsets(self) -> list[tuple[str, list]]:
        groups = self.field_groups()
        used = {name for _, names in groups for name in names}
        rest = [name for name in self.fields if name not in used]
        if rest:
            groups.append(("その他", rest))
        return [(legend, [self[name] for name in names if name in self.fields]) for legend, names in groups]

    def field_groups(self) -> list[tuple[str, list[str]]]:
        groups = []
        for prefix, legend, _role, _required in self.persons:
            names = [n for n in self.fields if n.startswith(prefix + "_")]
            if f"{prefix}_role" in names:  # the person's 立場 first
                names.insert(0, names.pop(names.index(f"{prefix}_role")))
            groups.append((legend, names))
        return [*groups, *self.kind_groups(), self.header_fieldset()]

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        return []

    # --- the header --------------------------------------------------------------------------------------------

    def header(self) -> FilingHeader:
        d = self.cleaned_data
        received = d.get("received_at")
        return FilingHeader(
            filed_on=d["filed_on"],
            accepted_on=d.get("accepted_on"),
            received_at=received.code if received else None,
            ward_role=d.get("ward_role") or WardRole.HONSEKICHI,
            note=d.get("note", ""),
        )

    # --- persons -----------------------------------------------------------------------------------------------

    def member_choices(self) -> list[FuhyoEntry]:
        if self.koseki is None:
            return []
        entries = self.koseki.entries.filter(status=EntryStatus.CURRENT).order_by("position")
        return [e for e in entries if self.may_see(e)]

    def add_person_fields(self, prefix: str, legend: str, *, required: bool, typed: bool = True) -> None:
        members = self.member_choices()
        if members:
            self.fields[f"{prefix}_entry"] = forms.ModelChoiceField(
                label="戸籍から選ぶ",
                queryset=FuhyoEntry.objects.filter(pk__in=[e.pk for e in members]).order_by("position"),
                required=False,
                empty_label="（選ばない）",
            )
            self.fields[f"{prefix}_entry"].label_from_instance = entry_label
        self.fields[f"{prefix}_code"] = forms.CharField(
            label="住民票コード",
            max_length=13,
            required=False,
            help_text="区の住民・区の戸籍の人はコードだけで足ります",
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 14}),
        )
        if typed:
            self.fields[f"{prefix}_surname"] = forms.CharField(label="氏（区外の人）", max_length=30, required=False)
            self.fields[f"{prefix}_given_name"] = forms.CharField(label="名", max_length=30, required=False)
            self.fields[f"{prefix}_surname_kana"] = KanaField(label="氏（カナ）", required=False)
            self.fields[f"{prefix}_given_name_kana"] = KanaField(label="名（カナ）", required=False)
            self.fields[f"{prefix}_birth_date"] = WarekiDateField(
                label="生年月日", required=False, future_message="生年月日が未来の日付です"
            )
            self.fields[f"{prefix}_sex"] = forms.ChoiceField(
                label="性別", choices=[("", "—"), *Sex.choices], required=False
            )
            self.fields[f"{prefix}_address_municipality"] = MunicipalityField(label="住所（市区町村）", required=False)
            self.fields[f"{prefix}_address"] = forms.CharField(
                label="住所", max_length=300, required=False, widget=forms.TextInput(attrs={"size": 40})
            )
        self.required_persons[prefix] = required

    def _find(self, prefix: str) -> Found | None:
        d = self.cleaned_data
        entry = d.get(f"{prefix}_entry")
        if entry is not None:
            return Found(entry=entry)
        code = unicodedata.normalize("NFKC", d.get(f"{prefix}_code") or "").strip().replace("-", "")
        if not code:
            return None
        if not (len(code) == 11 and code.isdigit()):
            self.add_error(f"{prefix}_code", "住民票コードは数字11桁で入力してください。")
            return Found()
        found = Found(
            entry=FuhyoEntry.objects.filter(juminhyo_code=code, status=EntryStatus.CURRENT).first(),
            resident=Resident.objects.filter(juminhyo_code=code, status=ResidentStatus.CURRENT).first(),
        )
        if found.entry is None and found.resident is None:
            self.add_error(f"{prefix}_code", "この住民票コードの人は区の戸籍にも住民票にもありません。")
            return Found()
        if any(record is not None and not self.may_see(record) for record in (found.entry, found.resident)):
            self.add_error(f"{prefix}_code", "閲覧制限のある人です。監督者の個別許可を受けてから入力してください。")
            return Found()
        return found

    def filed_person(self, prefix: str, role: str) -> FiledPerson | None:
        """The person of a slot, or None when the slot was left empty (an error is added if it was required)."""
        found = self._find(prefix)
        d = self.cleaned_data
        if found is not None:
            self.found[prefix] = found
            return FiledPerson(role=role, entry=found.entry, resident=found.resident)
        typed = {name: d.get(f"{prefix}_{name}") for name in IDENTITY_ITEMS}
        municipality = d.get(f"{prefix}_address_municipality")
        if not any(typed.values()) and municipality is None:
            if self.required_persons.get(prefix):
                self.add_error(f"{prefix}_code", "住民票コードを入力するか、戸籍から選ぶか、氏名等を入力してください。")
            return None
        for name in ("surname", "given_name", "birth_date"):
            if not typed[name]:
                self.add_error(f"{prefix}_{name}", "区外の人は氏名と生年月日を入力してください。")
        if municipality is None:
            self.add_error(f"{prefix}_address_municipality", "区外の人は住所の市区町村を入力してください。")
        return FiledPerson(
            role=role,
            surname=(typed["surname"] or "").strip(),
            given_name=(typed["given_name"] or "").strip(),
            surname_kana=typed["surname_kana"] or "",
            given_name_kana=typed["given_name_kana"] or "",
            birth_date=typed["birth_date"],
            sex=typed["sex"] or "",
            address_municipality=municipality.code if municipality else None,
            address=(d.get(f"{prefix}_address") or "").strip(),
        )

    def field_for(self, key: str) -> str | None:
        if key == "persons":
            return None
        return super().field_for(key)


class PlaceMixin:
    """The 戸籍 a person enters: an existing 戸籍 of the ward, or a new 本籍 (in the ward or elsewhere)."""

    EXISTING, NEW = "existing", "new"
    place_label = "入る戸籍"
    place_hittousha = True  # ask for the 筆頭者 of a new 戸籍

    def add_place_fields(self, *, initial: str | None = None) -> None:
        fields = self.fields  # type: ignore[attr-defined]
        fields["place"] = forms.ChoiceField(
            label=self.place_label,
            choices=[(self.EXISTING, "区の戸籍に入る"), (self.NEW, "新しい本籍（新戸籍）")],
            widget=forms.RadioSelect,
            initial=initial or (self.EXISTING if self.koseki else self.NEW),  # type: ignore[attr-defined]
        )
        fields["koseki"] = KosekiRefField(label="区の戸籍", required=False, initial=self.koseki)  # type: ignore[attr-defined]
        fields["honseki_municipality"] = MunicipalityField(
            label="新しい本籍（市区町村）", required=False, initial=settings.WARD_LG_CODE
        )
        fields["honseki_address"] = forms.CharField(
            label="新しい本籍（地番）", max_length=200, required=False, widget=forms.TextInput(attrs={"size": 40})
        )
        if self.place_hittousha:
            fields["hittousha_surname"] = forms.CharField(
                label="筆頭者の氏", max_length=30, required=False, help_text="空欄は届出のとおり（事件本人など）"
            )
            fields["hittousha_given_name"] = forms.CharField(label="筆頭者の名", max_length=30, required=False)

    def place_names(self) -> list[str]:
        names = ["place", "koseki", "honseki_municipality", "honseki_address"]
        return names + (["hittousha_surname", "hittousha_given_name"] if self.place_hittousha else [])

    def place_value(self) -> KosekiPlace:
        d = self.cleaned_data  # type: ignore[attr-defined]
        if d.get("place") == self.EXISTING:
            if d.get("koseki") is None:
                self.add_error("koseki", "入る区の戸籍を指定してください。")  # type: ignore[attr-defined]
            return KosekiPlace(koseki=d.get("koseki"))
        municipality = d.get("honseki_municipality")
        return KosekiPlace(
            honseki_municipality=municipality.code if municipality else None,
            honseki_address=(d.get("honseki_address") or "").strip(),
            hittousha_surname=(d.get("hittousha_surname") or "").strip(),
            hittousha_given_name=(d.get("hittousha_given_name") or "").strip(),
        )


ROLE = FilingPersonRole
KIND = FilingKind
