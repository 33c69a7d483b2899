"""Form of 職権修正 (誤記修正): every item a 職権修正 may correct, filled with what the 住民票 says now; the items the
clerk changed are the corrections."""

from typing import Any

from django import forms

from audit.visibility import RESTRICTED_LABEL, mask_names
from common.forms import KanaField, MunicipalityField, WarekiDateField

from ...choices import Sex
from ...models import Resident
from ...services.corrections import AMENDABLE
from .base import ChangeForm


class AmendmentForm(ChangeForm):
    with_notified_on = False
    note_required = True
    change_date_label = "修正年月日"

    def __init__(
        self, *args: Any, resident: Resident, hidden_names: frozenset[str] = frozenset(), **kwargs: Any
    ) -> None:
        self.resident = resident
        # The 筆頭者 may be a person restricted for this clerk: then the item is neither shown nor corrected here.
        self.hittousha_masked = mask_names(resident.hittousha_name, hidden_names) != resident.hittousha_name
        super().__init__(*args, **kwargs)

    def add_fields(self) -> None:
        r = self.resident
        self.fields["surname"] = forms.CharField(label="氏", max_length=30, initial=r.surname)
        self.fields["given_name"] = forms.CharField(label="名", max_length=30, initial=r.given_name)
        self.fields["surname_kana"] = KanaField(label="氏（カナ）", initial=r.surname_kana)
        self.fields["given_name_kana"] = KanaField(label="名（カナ）", initial=r.given_name_kana)
        self.fields["birth_date"] = WarekiDateField(label="生年月日", initial=r.birth_date)
        self.fields["sex"] = forms.ChoiceField(
            label="性別", choices=Sex.choices, initial=r.sex, widget=forms.RadioSelect
        )
        self.fields["relationship"] = forms.CharField(label="続柄", max_length=40, initial=r.relationship)
        self.fields["honseki_municipality"] = MunicipalityField(
            label="本籍（市区町村）", required=False, initial=r.honseki_municipality_id, help_text="空欄は本籍不明"
        )
        self.fields["honseki_address"] = forms.CharField(
            label="本籍（地番）", max_length=200, required=False, initial=r.honseki_address
        )
        self.fields["hittousha_name"] = forms.CharField(
            label="筆頭者の氏名", max_length=61, required=False, initial=r.hittousha_name
        )
        if self.hittousha_masked:
            self.fields["hittousha_name"].initial = RESTRICTED_LABEL
            self.fields["hittousha_name"].disabled = True
            self.fields["hittousha_name"].help_text = "閲覧制限のある方のため、この画面では表示・修正しません。"
        self.fields["juminhyo_code"] = forms.CharField(label="住民票コード", max_length=11, initial=r.juminhyo_code)
        self.fields["address_established_on"] = WarekiDateField(
            label="住所を定めた年月日", initial=r.address_established_on
        )
        self.fields["became_resident_on"] = WarekiDateField(label="住民となった年月日", initial=r.became_resident_on)

    def field_order_for(self) -> list[str]:
        return [*AMENDABLE, "change_date", "note"]

    def changes(self) -> dict[str, Any]:
        """The items whose cleaned value differs from the 住民票 (本籍 as a 地方公共団体コード)."""
        out: dict[str, Any] = {}
        for name in AMENDABLE:
            if name == "hittousha_name" and self.hittousha_masked:
                continue
            value = self.cleaned_data.get(name)
            if name == "honseki_municipality":
                value = value.code if value is not None else None
                current = self.resident.honseki_municipality_id
            else:
                current = getattr(self.resident, name)
                if isinstance(value, str):
                    value = value.strip()
            if value != current:
                out[name] = value
        return out
