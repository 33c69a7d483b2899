"""消除の画面: 転出 (国外転出), 死亡, 職権消除."""

from ... import locks, services
from ...forms.changes.removals import DeathForm, ExOfficioRemovalForm, MoveOutForm
from .base import RegistryFlow, screen


class _HouseholdRemovalFlow(RegistryFlow):
    def load(self) -> None:
        self.household = self.open_household(self.kwargs["household_id"])

    def lock_keys(self, form=None) -> list:
        return [] if form is not None else locks.household_keys(self.household)


class MoveOutFlow(_HouseholdRemovalFlow):
    """転出 (住基法24条) and 国外転出: removed as of the planned date."""

    view_name = "move_out"
    reason_label = "転出"

    def build_form(self, data=None) -> MoveOutForm:
        return MoveOutForm(data, household=self.household, selected=self.selected_ids())

    def execute(self, form: MoveOutForm):
        return services.move_out(list(form.cleaned_data["residents"]), **form.service_kwargs())


class ExOfficioRemovalFlow(_HouseholdRemovalFlow):
    """職権消除: e.g. a person found by survey not to live at the address."""

    view_name = "ex_officio_removal"
    reason_label = "職権消除"

    def build_form(self, data=None) -> ExOfficioRemovalForm:
        return ExOfficioRemovalForm(data, household=self.household, selected=self.selected_ids())

    def execute(self, form: ExOfficioRemovalForm):
        return services.ex_officio_removal(list(form.cleaned_data["residents"]), **form.service_kwargs())


class DeathFlow(RegistryFlow):
    """死亡 (a 死亡届 received by another ward, or found otherwise): the 住民票 becomes a 除票."""

    view_name = "death"
    reason_label = "死亡"

    def load(self) -> None:
        self.resident = self.open_resident(self.kwargs["resident_id"])
        self.household = self.open_household(self.resident.household_id)

    def build_form(self, data=None) -> DeathForm:
        return DeathForm(data, resident=self.resident)

    def lock_keys(self, form=None) -> list:
        return [] if form is not None else locks.household_keys(self.household)

    def execute(self, form: DeathForm):
        return services.death(self.resident, **form.service_kwargs())

    def context(self) -> dict:
        return {**super().context(), "person": self.resident}


move_out = screen(MoveOutFlow, action="removals.move_out", label="異動入力（転出）")
ex_officio_removal = screen(ExOfficioRemovalFlow, action="removals.ex_officio_removal", label="異動入力（職権消除）")
death = screen(DeathFlow, action="removals.death", label="異動入力（死亡）")
