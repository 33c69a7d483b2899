"""記載の画面: 転入 (国外転入), 出生, 職権記載."""

from django.http import Http404

from ... import locks, services
from ...forms.changes.entries import BirthForm, ExOfficioEntryForm, MoveInForm, PersonsEntry
from ...models import Household
from .base import RegistryFlow, screen


class _PersonsEntryFlow(RegistryFlow):
    """Persons typed in (from nothing), into a new 世帯 or an existing one (`?household=<id>` preselects it)."""

    form_template = "registry/changes/persons_entry.html"
    form_class: type = MoveInForm

    def load(self) -> None:
        self.household = None
        raw = self.request.GET.get("household", "")
        if raw.isdigit():
            household = Household.objects.filter(pk=int(raw)).first()
            if household is None or not household.is_active:
                raise Http404("この世帯はありません。")
            self.household = self.open_household(household.pk)

    def build_form(self, data=None) -> PersonsEntry:
        return PersonsEntry(data, form_class=self.form_class, household=self.household)

    def lock_keys(self, form=None) -> list:
        if form is not None:
            target = form.form.target()
            return [locks.household_key(target)] if target else []
        return [locks.household_key(self.household)] if self.household else []


class MoveInFlow(_PersonsEntryFlow):
    """転入 (住基法22条) and 国外転入: persons from another municipality or from abroad."""

    view_name = "move_in"
    reason_label = "転入"
    form_class = MoveInForm

    def execute(self, form: PersonsEntry):
        d = form.cleaned_data
        previous = d.get("previous_municipality")
        return services.move_in(
            form.person_data(),
            change_date=d["change_date"],
            notified_on=d["notified_on"],
            previous_municipality=previous.code if previous else None,
            previous_address=d.get("previous_address", ""),
            from_abroad=d.get("from_abroad", False),
            note=d.get("note", ""),
            **form.form.placement(),
        )


class ExOfficioEntryFlow(_PersonsEntryFlow):
    """職権記載: a 住民票 the ward writes on its own authority."""

    view_name = "ex_officio_entry"
    reason_label = "職権記載"
    form_class = ExOfficioEntryForm

    def execute(self, form: PersonsEntry):
        d = form.cleaned_data
        return services.ex_officio_entry(
            form.person_data(), change_date=d["change_date"], note=d["note"], **form.form.placement()
        )


class BirthFlow(RegistryFlow):
    """出生: the newborn's 住民票, in the 世帯 it was born into."""

    view_name = "birth"
    reason_label = "出生"

    def load(self) -> None:
        self.household = self.open_household(self.kwargs["household_id"])

    def build_form(self, data=None) -> BirthForm:
        return BirthForm(data, household=self.household)

    def lock_keys(self, form=None) -> list:
        return [] if form is not None else [locks.household_key(self.household)]

    def execute(self, form: BirthForm):
        return services.birth(
            form.person_data(),
            household=self.household,
            notified_on=form.cleaned_data["notified_on"],
            note=form.cleaned_data.get("note", ""),
        )


move_in = screen(MoveInFlow, action="entries.move_in", label="異動入力（転入）")
ex_officio_entry = screen(ExOfficioEntryFlow, action="entries.ex_officio_entry", label="異動入力（職権記載）")
birth = screen(BirthFlow, action="entries.birth", label="異動入力（出生）")
