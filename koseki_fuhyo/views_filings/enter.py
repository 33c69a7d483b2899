"""届出 by which a person enters a 戸籍: 出生届, 帰化・国籍取得・就籍の届."""

from typing import Any

from django.http import Http404

from registry import locks
from registry.models import Household

from ..filing_forms.enter import BirthFilingForm, NewNationalForm
from ..services import filings
from .base import FilingFlow, screen


class BirthFilingFlow(FilingFlow):
    """出生届 (49条): `?household=<id>` (from a 住民票 page) fills in the 世帯 the child is born into."""

    view_name = "file_birth"
    form_class = BirthFilingForm

    def load(self) -> None:
        super().load()
        self.household = None
        raw = self.request.GET.get("household", "")
        if raw:
            household = Household.objects.filter(pk=int(raw) if raw.isdigit() else 0, dissolved_on__isnull=True).first()
            if household is None:
                raise Http404("この世帯はありません。")
            for member in household.current_members():
                self.access.open(member)
            self.household = household

    def form_kwargs(self, data=None) -> dict[str, Any]:
        return {"household": self.household}

    def extra_lock_keys(self, form) -> list:
        household = form.values.get("household")
        return [locks.household_key(household)] if household else []

    def execute(self, form: BirthFilingForm):
        v = dict(form.values)
        return filings.file_birth(form.header(), v.pop("child"), v.pop("parents_koseki"), **v)


class NewNationalFlow(FilingFlow):
    """帰化 (102条の2)・国籍取得 (102条)・就籍 (110条)."""

    view_name = "file_new_national"
    form_class = NewNationalForm

    def extra_lock_keys(self, form) -> list:
        household = form.values.get("household")
        return [locks.household_key(household)] if household else []

    def execute(self, form: NewNationalForm):
        v = dict(form.values)
        return filings.file_new_national(self.kind, form.header(), v.pop("person"), v.pop("place"), **v)


file_birth = screen(BirthFilingFlow, action="enter.file_birth", label="戸籍届出（出生届）")
file_new_national = screen(NewNationalFlow, action="enter.file_new_national", label="戸籍届出（帰化・国籍取得・就籍）")
