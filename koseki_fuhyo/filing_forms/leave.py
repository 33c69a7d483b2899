"""Form of the 届出 by which a person leaves the 戸籍: 死亡 (86条), 失踪 (94条), 国籍喪失 (103条)."""

from typing import Any

from django import forms

from common.forms import WarekiDateField
from registry.models import Resident
from registry.relationships import HEAD

from .base import ROLE, FilingForm


class DeathFilingForm(FilingForm):
    persons = (("subject", "事件本人", ROLE.SUBJECT, True), ("notifier", "届出人", ROLE.NOTIFIER, False))
    ward_role_default = "honsekichi"

    def __init__(self, *args: Any, subject_resident: Resident | None = None, **kwargs: Any) -> None:
        self.subject_resident = subject_resident
        super().__init__(*args, **kwargs)

    def add_fields(self) -> None:
        label = {"death": "死亡の日", "disappearance": "死亡とみなされる日", "nationality_loss": "国籍喪失の日"}
        self.fields["date_of_death"] = WarekiDateField(label=label.get(self.kind, "事件の日"))
        self.others: list[Resident] = []
        subject = self.subject_resident
        if subject is not None and subject.relationship == HEAD:
            self.others = [m for m in subject.household.current_members() if m.pk != subject.pk]
        if len(self.others) > 1:
            queryset = Resident.objects.filter(pk__in=[m.pk for m in self.others]).order_by("id")
            self.fields["remaining_head"] = forms.ModelChoiceField(
                label="残る世帯の世帯主",
                queryset=queryset,
                required=False,
                empty_label="（選ばない：世帯主不在）",
            )
            self.fields["remaining_head"].label_from_instance = lambda r: f"{r.name}（{r.relationship}）"
            for member in self.others:
                self.fields[f"relationship_{member.pk}"] = forms.CharField(
                    label=f"{member.name} の新しい続柄",
                    required=False,
                    max_length=40,
                    help_text=f"現在：{member.relationship}。変わる人だけ",
                )

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        household = ["remaining_head", *(f"relationship_{m.pk}" for m in self.others)]
        return [("事件", ["date_of_death"]), ("残る世帯", household)]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if self.errors:
            return d
        relationships = {
            int(name.removeprefix("relationship_")): value.strip()
            for name, value in d.items()
            if name.startswith("relationship_") and value and value.strip()
        }
        self.values = {
            "subject": self.filed_person("subject", ROLE.SUBJECT),
            "notifier": self.filed_person("notifier", ROLE.NOTIFIER),
            "date_of_death": d["date_of_death"],
            "remaining_head": d.get("remaining_head"),
            "relationships": relationships or None,
        }
        return d
