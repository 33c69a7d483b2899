"""世帯変更の画面: 世帯主変更, 世帯分離, 世帯合併 (住基法25条)."""

from ... import locks, services
from ...forms.changes.households import HouseholdHeadForm, MergeHouseholdsForm, SplitHouseholdForm
from .base import RegistryFlow, screen


class _HouseholdFlow(RegistryFlow):
    form_class: type

    def load(self) -> None:
        self.household = self.open_household(self.kwargs["household_id"])

    def build_form(self, data=None):
        return self.form_class(data, household=self.household, selected=self.selected_ids())

    def lock_keys(self, form=None) -> list:
        return [] if form is not None else locks.household_keys(self.household)


class HouseholdHeadFlow(_HouseholdFlow):
    """世帯主変更: another member becomes 世帯主; the others' 続柄 are given anew."""

    view_name = "change_household_head"
    reason_label = "世帯主変更"
    form_class = HouseholdHeadForm

    def execute(self, form: HouseholdHeadForm):
        return services.change_household_head(self.household, **form.service_kwargs())


class SplitHouseholdFlow(_HouseholdFlow):
    """世帯分離: some members form a new 世帯 at the same address."""

    view_name = "split_household"
    reason_label = "世帯分離"
    form_class = SplitHouseholdForm

    def execute(self, form: SplitHouseholdForm):
        return services.split_household(self.household, **form.service_kwargs())


class MergeHouseholdsFlow(_HouseholdFlow):
    """世帯合併: every member of this 世帯 joins another 世帯 at the same address."""

    view_name = "merge_households"
    reason_label = "世帯合併"
    form_class = MergeHouseholdsForm

    def lock_keys(self, form=None) -> list:
        if form is None:
            return super().lock_keys()
        target = form.target()
        return locks.household_keys(target) if target else []

    def execute(self, form: MergeHouseholdsForm):
        return services.merge_households(self.household, form.target(), **form.service_kwargs())


change_household_head = screen(
    HouseholdHeadFlow, action="households.change_household_head", label="異動入力（世帯主変更）"
)
split_household = screen(SplitHouseholdFlow, action="households.split_household", label="異動入力（世帯分離）")
merge_households = screen(MergeHouseholdsFlow, action="households.merge_households", label="異動入力（世帯合併）")
