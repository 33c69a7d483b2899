"""Forms of 世帯変更: 世帯主変更, 世帯分離, 世帯合併."""

from typing import Any

from django.core.exceptions import ValidationError

from ...models import Household
from ...relationships import HEAD
from .base import ChangeForm, HouseholdNumberField


class _HouseholdForm(ChangeForm):
    def __init__(self, *args: Any, household: Household, selected: list[int] | None = None, **kwargs: Any) -> None:
        self.household = household
        self.selected = selected
        super().__init__(*args, members=list(household.current_members()), **kwargs)


class HouseholdHeadForm(_HouseholdForm):
    def add_fields(self) -> None:
        others = [m for m in self.members if m.relationship != HEAD]
        self.add_member_select("new_head", "新しい世帯主", required=True, members=others)
        self.add_relationship_fields(label="新しい続柄", help_text="新しい世帯主との続柄（新しい世帯主の欄は空欄）")

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        relationships = self.relationships()
        relationships.pop(d["new_head"].pk, None)
        return {
            "new_head": d["new_head"],
            "relationships": relationships,
            "change_date": d["change_date"],
            "notified_on": d["notified_on"],
            "note": d.get("note", ""),
        }


class SplitHouseholdForm(_HouseholdForm):
    def add_fields(self) -> None:
        self.add_members_choice("residents", "分離する人（新しい世帯に移る人）", initial=self.selected or [])
        self.add_member_select("new_head", "新しい世帯の世帯主", required=True)
        self.add_member_select(
            "remaining_head",
            "残る世帯の世帯主",
            help_text="世帯主が分離し、残る人が二人以上のとき（選ばなければ世帯主不在）",
        )
        self.add_relationship_fields(help_text="変わる人だけ（新しい世帯主との続柄）")

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "members": list(d["residents"]),
            "new_head": d["new_head"],
            "relationships": self.relationships(),
            "change_date": d["change_date"],
            "notified_on": d["notified_on"],
            "remaining_head": d.get("remaining_head"),
            "note": d.get("note", ""),
        }


class MergeHouseholdsForm(_HouseholdForm):
    service_fields = {"target": "target_household"}

    def add_fields(self) -> None:
        self.fields["target_household"] = HouseholdNumberField(label="合併先の世帯番号")
        self.add_relationship_fields(label="新しい続柄", help_text="合併先の世帯主との続柄")

    def clean_target_household(self) -> Household:
        target = self.cleaned_data["target_household"]
        if target is not None and target.pk == self.household.pk:
            raise ValidationError("同じ世帯どうしは合併できません。")
        return target

    def target(self) -> Household | None:
        return self.cleaned_data.get("target_household")

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "relationships": self.relationships(),
            "change_date": d["change_date"],
            "notified_on": d["notified_on"],
            "note": d.get("note", ""),
        }
