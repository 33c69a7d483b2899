"""Forms of 記載: 転入 (国外転入), 出生, 職権記載."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from common.forms import KanaField, MunicipalityField

from ...choices import Sex
from ...models import Household, Resident
from ...services import PersonData
from ...services.entries import NewHousehold
from .base import ChangeForm, HouseholdNumberField, PersonFormSet, head_of, person_data_of


class DestinationForm(ChangeForm):
    """Where the persons live: a new 世帯 at an address of the ward, or an existing 世帯."""

    NEW, EXISTING = "new", "existing"

    def __init__(self, *args: Any, household: Household | None = None, **kwargs: Any) -> None:
        self.household = household
        super().__init__(*args, **kwargs)

    def add_fields(self) -> None:
        self.fields["destination"] = forms.ChoiceField(
            label="住所",
            choices=[(self.NEW, "新しい世帯を設ける"), (self.EXISTING, "区内の世帯に入る")],
            widget=forms.RadioSelect,
            initial=self.EXISTING if self.household else self.NEW,
        )
        self.fields["address"] = forms.CharField(
            label="住所（新しい世帯）",
            max_length=200,
            required=False,
            help_text="区名より後（町名・丁目・番地・号）",
            widget=forms.TextInput(attrs={"size": 50}),
        )
        self.fields["katagaki"] = forms.CharField(label="方書", max_length=100, required=False)
        self.fields["target_household"] = HouseholdNumberField(
            label="入る世帯の世帯番号", required=False, initial=self.household.number if self.household else None
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("destination") == self.EXISTING and not data.get("target_household"):
            self.add_error("target_household", "入る世帯の世帯番号を入力してください。")
        if data.get("destination") == self.NEW and not (data.get("address") or "").strip():
            self.add_error("address", "住所を入力してください。")
        return data

    def placement(self) -> dict[str, Any]:
        d = self.cleaned_data
        if d["destination"] == self.EXISTING:
            return {"household": d["target_household"], "new_household": None}
        return {"household": None, "new_household": NewHousehold(d["address"], d.get("katagaki", ""))}

    def target(self) -> Household | None:
        if self.cleaned_data.get("destination") != self.EXISTING:
            return None
        return self.cleaned_data.get("target_household")


class MoveInForm(DestinationForm):
    service_fields = {"household_choice": "destination"}

    def add_fields(self) -> None:
        self.fields["from_abroad"] = forms.BooleanField(label="国外からの転入", required=False)
        self.fields["previous_municipality"] = MunicipalityField(
            label="従前の住所（市区町村）", required=False, help_text="国外転入では空欄"
        )
        self.fields["previous_address"] = forms.CharField(
            label="従前の住所",
            max_length=300,
            required=False,
            help_text="市区町村名より後（国外転入では国名・住所）",
            widget=forms.TextInput(attrs={"size": 50}),
        )
        super().add_fields()


class ExOfficioEntryForm(DestinationForm):
    with_notified_on = False
    note_required = True
    change_date_label = "記載年月日"


class PersonsEntry:
    """A destination form and the persons (a formset) as one form, for 転入 and 職権記載."""

    def __init__(self, data=None, *, form_class: type[DestinationForm], household: Household | None = None) -> None:
        self.form = form_class(data, household=household)
        self.persons = PersonFormSet(data, prefix="p")

    def is_valid(self) -> bool:
        main = self.form.is_valid()
        persons = self.persons.is_valid()
        return main and persons

    def focus_first(self) -> None:
        with_errors = [f for f in self.persons.forms if f.errors]
        rows = with_errors or (self.persons.forms if not self.form.errors else [])
        (rows[0] if rows else self.form).focus_first()

    @property
    def cleaned_data(self) -> dict[str, Any]:
        return self.form.cleaned_data

    def person_data(self) -> list[PersonData]:
        return [f.person_data() for f in self.persons.filled_forms()]

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.form.add_service_error(error)
            return
        filled = self.persons.filled_forms()
        for key, messages in error.message_dict.items():
            if key.startswith("persons[") and "]." in key:
                index = int(key[len("persons[") : key.index("]")])
                if index < len(filled):
                    filled[index].add_error(filled[index].field_for(key), messages)
                    continue
            self.form.add_error(self.form.field_for(key), messages)


class BirthForm(ChangeForm):
    """出生: the child, in the 世帯 it was born into; 本籍 and 筆頭者 as the parents' 戸籍 shows them."""

    change_date_label = "生年月日"

    def __init__(self, *args: Any, household: Household, **kwargs: Any) -> None:
        self.household = household
        super().__init__(*args, members=list(household.current_members()), **kwargs)

    def add_fields(self) -> None:
        head: Resident | None = head_of(self.members)
        self.fields["change_date"].help_text = "出生の日（異動年月日になります）"
        self.fields["change_date"].initial = None
        self.fields["surname"] = forms.CharField(label="氏", max_length=30, initial=head.surname if head else "")
        self.fields["given_name"] = forms.CharField(label="名", max_length=30)
        self.fields["surname_kana"] = KanaField(label="氏（カナ）", initial=head.surname_kana if head else "")
        self.fields["given_name_kana"] = KanaField(label="名（カナ）", help_text="ひらがな・半角カナでも入力できます")
        self.fields["sex"] = forms.ChoiceField(label="性別", choices=Sex.choices, widget=forms.RadioSelect)
        self.fields["relationship"] = forms.CharField(
            label="続柄", max_length=40, initial="子", help_text="世帯主との続柄（子・子の子 など）"
        )
        self.fields["honseki_municipality"] = MunicipalityField(
            label="本籍（市区町村）", required=False, initial=head.honseki_municipality_id if head else None
        )
        self.fields["honseki_address"] = forms.CharField(
            label="本籍（地番）", max_length=200, required=False, initial=head.honseki_address if head else ""
        )
        self.fields["hittousha_name"] = forms.CharField(
            label="筆頭者の氏名", max_length=61, required=False, initial=head.hittousha_name if head else ""
        )

    def field_order_for(self) -> list[str]:
        return [
            "surname",
            "given_name",
            "surname_kana",
            "given_name_kana",
            "change_date",
            "sex",
            "relationship",
            "honseki_municipality",
            "honseki_address",
            "hittousha_name",
            "notified_on",
            "note",
        ]

    def field_for(self, key: str) -> str | None:
        if key.startswith("persons[0]."):
            key = key.removeprefix("persons[0].")
        if key == "birth_date":
            key = "change_date"
        return super().field_for(key)

    def person_data(self) -> PersonData:
        return person_data_of(self.cleaned_data, birth_date=self.cleaned_data["change_date"])  # born on the 異動日
