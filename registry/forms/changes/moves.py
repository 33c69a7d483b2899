"""Form of 転居: who moves (checkboxes), to a new address or into another 世帯, and the 世帯主 and 続柄 after it."""

from typing import Any

from django import forms

from ...models import Household
from ...services.entries import NewHousehold
from .base import ChangeForm, HouseholdNumberField


class MoveWithinForm(ChangeForm):
    NEW_ADDRESS, HOUSEHOLD = "new_address", "household"
    service_fields = {"target_choice": "destination"}

    def __init__(self, *args: Any, household: Household, selected: list[int] | None = None, **kwargs: Any) -> None:
        self.household = household
        self.selected = selected
        super().__init__(*args, members=list(household.current_members()), **kwargs)

    def add_fields(self) -> None:
        self.add_members_choice("residents", "転居する人", initial=self.selected)
        self.fields["destination"] = forms.ChoiceField(
            label="転居先",
            choices=[(self.NEW_ADDRESS, "新しい住所へ"), (self.HOUSEHOLD, "区内の別の世帯に入る")],
            widget=forms.RadioSelect,
            initial=self.NEW_ADDRESS,
        )
        self.fields["address"] = forms.CharField(
            label="新しい住所",
            max_length=200,
            required=False,
            help_text="区名より後（町名・丁目・番地・号）",
            widget=forms.TextInput(attrs={"size": 50}),
        )
        self.fields["katagaki"] = forms.CharField(label="方書", max_length=100, required=False)
        self.fields["target_household"] = HouseholdNumberField(label="入る世帯の世帯番号", required=False)
        self.add_member_select(
            "new_head",
            "新しい世帯の世帯主",
            help_text="世帯の一部が新しい住所へ移るとき、転居する人から選びます",
        )
        self.add_member_select(
            "remaining_head",
            "残る世帯の世帯主",
            help_text="世帯主が転居し、残る人が二人以上のとき（選ばなければ世帯主不在）",
        )
        self.add_relationship_fields(help_text="変わる人だけ（新しい世帯主との続柄）")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("destination") == self.HOUSEHOLD and not data.get("target_household"):
            self.add_error("target_household", "入る世帯の世帯番号を入力してください。")
        if data.get("destination") == self.NEW_ADDRESS and not (data.get("address") or "").strip():
            self.add_error("address", "新しい住所を入力してください。")
        return data

    def target(self) -> Household | None:
        if self.cleaned_data.get("destination") != self.HOUSEHOLD:
            return None
        return self.cleaned_data.get("target_household")

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        to_household = d["destination"] == self.HOUSEHOLD
        return {
            "change_date": d["change_date"],
            "notified_on": d["notified_on"],
            "new_address": None if to_household else NewHousehold(d.get("address", ""), d.get("katagaki", "")),
            "target_household": d["target_household"] if to_household else None,
            "new_head": d.get("new_head"),
            "remaining_head": d.get("remaining_head"),
            "relationships": self.relationships(),
            "note": d.get("note", ""),
        }
