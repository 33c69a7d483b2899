"""Forms of 消除: 転出 (国外転出), 死亡, 職権消除 — and who heads the 世帯 that remains."""

from typing import Any

from django import forms

from common.forms import MunicipalityField

from ...models import Household, Resident
from .base import ChangeForm


class _RemainingHeadMixin:
    def add_remaining_head(self, members: list[Resident]) -> None:
        self.add_member_select(  # type: ignore[attr-defined]
            "remaining_head",
            "残る世帯の世帯主",
            members=members,
            help_text="世帯主が消除され、残る人が二人以上のとき（選ばなければ世帯主不在）",
        )
        self.add_relationship_fields(members, help_text="変わる人だけ（新しい世帯主との続柄）")  # type: ignore[attr-defined]


class MoveOutForm(_RemainingHeadMixin, ChangeForm):
    DOMESTIC, ABROAD = "domestic", "abroad"
    change_date_label = "転出予定年月日"
    change_date_may_be_future = True

    def __init__(self, *args: Any, household: Household, selected: list[int] | None = None, **kwargs: Any) -> None:
        self.household = household
        self.selected = selected
        super().__init__(*args, members=list(household.current_members()), **kwargs)

    def add_fields(self) -> None:
        self.add_members_choice("residents", "転出する人", initial=self.selected)
        self.fields["destination_kind"] = forms.ChoiceField(
            label="転出先",
            choices=[(self.DOMESTIC, "国内の市区町村"), (self.ABROAD, "国外")],
            widget=forms.RadioSelect,
            initial=self.DOMESTIC,
        )
        self.fields["destination_municipality"] = MunicipalityField(label="転出先（市区町村）", required=False)
        self.fields["destination_address"] = forms.CharField(
            label="転出先の住所",
            max_length=300,
            required=False,
            help_text="市区町村名より後",
            widget=forms.TextInput(attrs={"size": 50}),
        )
        self.fields["destination_country"] = forms.CharField(
            label="転出先の国名（国外転出）", max_length=60, required=False
        )
        self.add_remaining_head(self.members)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("destination_kind") == self.ABROAD and not (data.get("destination_country") or "").strip():
            self.add_error("destination_country", "転出先の国名を入力してください。")
        return data

    def field_for(self, key: str) -> str | None:
        return super().field_for("change_date" if key == "planned_date" else key)

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        abroad = d["destination_kind"] == self.ABROAD
        municipality = d.get("destination_municipality")
        return {
            "planned_date": d["change_date"],
            "notified_on": d["notified_on"],
            "destination_municipality": None if abroad or municipality is None else municipality.code,
            "destination_address": "" if abroad else d.get("destination_address", ""),
            "destination_country": d.get("destination_country", "").strip() if abroad else "",
            "remaining_head": d.get("remaining_head"),
            "relationships": self.relationships(),
            "note": d.get("note", ""),
        }


class DeathForm(_RemainingHeadMixin, ChangeForm):
    change_date_label = "死亡年月日"

    def __init__(self, *args: Any, resident: Resident, **kwargs: Any) -> None:
        self.resident = resident
        members = list(resident.household.current_members())
        self.others = [m for m in members if m.pk != resident.pk]
        super().__init__(*args, members=members, **kwargs)
        self.fields["notified_on"].required = False
        self.fields["change_date"].initial = None

    def add_fields(self) -> None:
        self.add_remaining_head(self.others)

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "date_of_death": d["change_date"],
            "notified_on": d.get("notified_on"),
            "remaining_head": d.get("remaining_head"),
            "relationships": self.relationships(),
            "note": d.get("note", ""),
        }


class ExOfficioRemovalForm(_RemainingHeadMixin, ChangeForm):
    with_notified_on = False
    note_required = True
    change_date_label = "消除年月日"

    def __init__(self, *args: Any, household: Household, selected: list[int] | None = None, **kwargs: Any) -> None:
        self.household = household
        self.selected = selected
        super().__init__(*args, members=list(household.current_members()), **kwargs)

    def add_fields(self) -> None:
        self.add_members_choice("residents", "消除する人", initial=self.selected)
        self.add_remaining_head(self.members)

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "change_date": d["change_date"],
            "note": d["note"],
            "remaining_head": d.get("remaining_head"),
            "relationships": self.relationships(),
        }
