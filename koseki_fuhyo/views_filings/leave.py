"""届出 by which a person leaves the 戸籍: 死亡届, 失踪の届, 国籍喪失の届."""

from typing import Any

from registry import locks
from registry.choices import ResidentStatus
from registry.models import Resident

from ..filing_forms.leave import DeathFilingForm
from ..models import FuhyoEntry
from ..services import filings
from .base import FilingFlow, current_resident_for, screen


class DeathFilingFlow(FilingFlow):
    """死亡 (86条)・失踪 (94条)・国籍喪失 (103条). When the 事件本人 is a 世帯主 living with others, the form offers
    the new 世帯主 (the 世帯 is known once the person is: from `?code=`, or after the first 確認)."""

    view_name = "file_death"
    form_class = DeathFilingForm

    def subject_resident(self, data=None) -> Resident | None:
        code = (data.get("subject_code") if data else None) or self.prefill.get("subject_code") or ""
        entry_id = data.get("subject_entry") if data else ""
        if entry_id and entry_id.isdigit():
            entry = FuhyoEntry.objects.filter(pk=int(entry_id)).first()
            code = entry.juminhyo_code if entry else code
        code = code.strip()
        if not (len(code) == 11 and code.isdigit()):
            return None
        resident = Resident.objects.filter(juminhyo_code=code, status=ResidentStatus.CURRENT).first()
        return resident if resident is not None and self.access.may_see(resident) else None

    def form_kwargs(self, data=None) -> dict[str, Any]:
        return {"subject_resident": self.subject_resident(data)}

    def extra_lock_keys(self, form) -> list:
        subject = form.values.get("subject")
        resident = None
        if subject is not None:
            resident = subject.resident or (current_resident_for(subject.entry) if subject.entry else None)
        return locks.household_keys(resident.household) if resident else []

    def execute(self, form: DeathFilingForm):
        v = dict(form.values)
        return filings.file_death(form.header(), v.pop("subject"), kind=self.kind, **v)


file_death = screen(DeathFilingFlow, action="leave.file_death", label="戸籍届出（死亡・失踪・国籍喪失）")
