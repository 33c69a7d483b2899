"""転居の画面: from a 世帯, with checkboxes for the members who move."""

from ... import locks, services
from ...forms.changes.moves import MoveWithinForm
from .base import RegistryFlow, screen


class MoveWithinFlow(RegistryFlow):
    """転居 (住基法23条): the whole 世帯 to a new address, some members to a new address (a new 世帯), or into
    another 世帯 of the ward."""

    view_name = "move_within"
    reason_label = "転居"

    def load(self) -> None:
        self.household = self.open_household(self.kwargs["household_id"])

    def build_form(self, data=None) -> MoveWithinForm:
        return MoveWithinForm(data, household=self.household, selected=self.selected_ids())

    def lock_keys(self, form=None) -> list:
        if form is None:
            return locks.household_keys(self.household)
        target = form.target()
        return locks.household_keys(target) if target else []

    def execute(self, form: MoveWithinForm):
        return services.move_within(list(form.cleaned_data["residents"]), **form.service_kwargs())


move_within = screen(MoveWithinFlow, action="moves.move_within", label="異動入力（転居）")
