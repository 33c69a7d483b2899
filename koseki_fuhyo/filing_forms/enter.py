"""Forms of the 届出 by which a person enters a 戸籍: 出生 (49条); 帰化・国籍取得・就籍."""

from typing import Any

from django import forms
from django.conf import settings

from common.forms import KanaField, MunicipalityField, WarekiDateField
from common.items import IDENTITY_ITEMS
from registry.choices import Sex
from registry.services.entries import NewHousehold

from ..services.filings import KosekiPlace, Newborn, NewNational
from .base import ROLE, FilingForm, HouseholdNumberField, PlaceMixin


def _identity_fields(form: forms.Form, *, code: bool = False) -> None:
    form.fields["surname"] = forms.CharField(label="氏", max_length=30)
    form.fields["given_name"] = forms.CharField(label="名", max_length=30)
    form.fields["surname_kana"] = KanaField(label="氏（カナ）", help_text="ひらがな・半角カナでも入力できます")
    form.fields["given_name_kana"] = KanaField(label="名（カナ）")
    form.fields["birth_date"] = WarekiDateField(label="生年月日")
    form.fields["sex"] = forms.ChoiceField(label="性別", choices=Sex.choices, widget=forms.RadioSelect)
    if code:
        form.fields["juminhyo_code"] = forms.CharField(
            label="住民票コード", max_length=11, required=False, help_text="外国人住民として持っていれば"
        )


class _ResidenceMixin:
    """Where the person lives: a 世帯 of the ward, a new 世帯 of the ward, or outside the ward."""

    HOUSEHOLD, NEW_HOUSEHOLD, OUTSIDE = "household", "new_household", "outside"
    allow_new_household = False
    relationship_default = "子"

    def add_residence_fields(self, *, household=None) -> None:
        choices = [(self.HOUSEHOLD, "区内の世帯に入る")]
        if self.allow_new_household:
            choices.append((self.NEW_HOUSEHOLD, "区内に新しい世帯を設ける"))
        choices.append((self.OUTSIDE, "区外に住む"))
        f = self.fields  # type: ignore[attr-defined]
        f["residence"] = forms.ChoiceField(
            label="住所", choices=choices, widget=forms.RadioSelect, initial=self.HOUSEHOLD
        )
        f["household"] = HouseholdNumberField(
            label="世帯番号", max_length=10, required=False, initial=household.number if household else None
        )
        f["relationship"] = forms.CharField(
            label="続柄", max_length=40, initial=self.relationship_default, help_text="世帯主との続柄"
        )
        if self.allow_new_household:
            f["new_address"] = forms.CharField(
                label="新しい世帯の住所", max_length=200, required=False, help_text="区名より後"
            )
            f["new_katagaki"] = forms.CharField(label="方書", max_length=100, required=False)
        f["address_municipality"] = MunicipalityField(label="区外の住所（市区町村）", required=False)
        f["address"] = forms.CharField(label="区外の住所", max_length=300, required=False)

    def residence_names(self) -> list[str]:
        names = ["residence", "household", "relationship"]
        if self.allow_new_household:
            names += ["new_address", "new_katagaki"]
        return [*names, "address_municipality", "address"]

    def residence_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data  # type: ignore[attr-defined]
        where = d.get("residence")
        out: dict[str, Any] = {"relationship": d.get("relationship") or self.relationship_default}
        if where == self.HOUSEHOLD:
            if d.get("household") is None:
                self.add_error("household", "入る世帯の世帯番号を入力してください。")  # type: ignore[attr-defined]
            out["household"] = d.get("household")
        elif where == self.NEW_HOUSEHOLD:
            if not (d.get("new_address") or "").strip():
                self.add_error("new_address", "新しい世帯の住所を入力してください。")  # type: ignore[attr-defined]
            out["new_household"] = NewHousehold(d.get("new_address") or "", d.get("new_katagaki") or "")
        else:
            municipality = d.get("address_municipality")
            if municipality is None:
                self.add_error("address_municipality", "区外の住所の市区町村を入力してください。")  # type: ignore[attr-defined]
            out["address_municipality"] = municipality.code if municipality else None
            out["address"] = (d.get("address") or "").strip()
        return out


class BirthFilingForm(_ResidenceMixin, PlaceMixin, FilingForm):
    """出生届: the child; the parents' 戸籍 (in the ward or elsewhere); where the child lives; the parents."""

    persons = (("father", "父", ROLE.FATHER, False), ("mother", "母", ROLE.MOTHER, False))
    place_label = "子が入る戸籍（父母の戸籍）"
    ward_role_default = "honsekichi"

    def __init__(self, *args: Any, household=None, **kwargs: Any) -> None:
        self.household = household
        super().__init__(*args, **kwargs)

    def add_fields(self) -> None:
        _identity_fields(self)
        self.add_place_fields(initial=self.EXISTING)
        self.fields["place"].choices = [(self.EXISTING, "区の戸籍"), (self.NEW, "区外の本籍の戸籍")]
        self.fields["honseki_municipality"].label = "区外の本籍（市区町村）"
        self.fields["honseki_municipality"].initial = None
        self.fields["honseki_address"].label = "区外の本籍（地番）"
        self.add_residence_fields(household=self.household)

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        return [("子", list(IDENTITY_ITEMS)), ("戸籍", self.place_names()), ("子の住所", self.residence_names())]

    def field_groups(self) -> list[tuple[str, list[str]]]:
        groups = super().field_groups()
        kind = groups[len(self.persons) :]  # the child first, then the parents
        return [*kind[:-1], *groups[: len(self.persons)], kind[-1]]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if self.errors:
            return d
        parents = [p for p in (self.filed_person("father", ROLE.FATHER), self.filed_person("mother", ROLE.MOTHER)) if p]
        place = self.place_value()
        if place.koseki is None and place.honseki_municipality == settings.WARD_LG_CODE:
            self.add_error("honseki_municipality", "区の本籍のときは「区の戸籍」を選んでください。")
        self.values = {
            "child": Newborn(
                d["surname"], d["given_name"], d["surname_kana"], d["given_name_kana"], d["birth_date"], d["sex"]
            ),
            "parents_koseki": place,
            "parents": parents,
            **self.residence_kwargs(),
        }
        return d


class NewNationalForm(_ResidenceMixin, PlaceMixin, FilingForm):
    """帰化・国籍取得・就籍: the person, the 戸籍 they enter (usually a new one), where they live."""

    allow_new_household = True
    relationship_default = "世帯主"
    ward_role_default = "new_honsekichi"

    def add_fields(self) -> None:
        _identity_fields(self, code=True)
        self.add_place_fields(initial=self.NEW)
        self.fields["hittousha_surname"].help_text = "新しい戸籍の筆頭者（通常は本人）"
        self.add_residence_fields()

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        return [
            ("本人", [*IDENTITY_ITEMS, "juminhyo_code"]),
            ("戸籍", self.place_names()),
            ("住所", self.residence_names()),
        ]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if self.errors:
            return d
        place = self.place_value()
        if place.koseki is None:
            place = KosekiPlace(
                honseki_municipality=place.honseki_municipality,
                honseki_address=place.honseki_address,
                hittousha_surname=place.hittousha_surname or d["surname"],
                hittousha_given_name=place.hittousha_given_name or d["given_name"],
            )
        self.values = {
            "person": NewNational(
                d["surname"],
                d["given_name"],
                d["surname_kana"],
                d["given_name_kana"],
                d["birth_date"],
                d["sex"],
                (d.get("juminhyo_code") or "").strip(),
            ),
            "place": place,
            **self.residence_kwargs(),
        }
        return d
