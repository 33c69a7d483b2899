"""Form of the 届出 recorded only in the 戸籍 (認知, 親権, 未成年後見, 姻族関係終了, 推定相続人廃除, 国籍留保,
国籍選択, 外国国籍喪失): nothing of the 附票 or the 住民票 changes."""

from typing import Any

from django import forms

from .base import ROLE, FilingForm


class RecordOnlyForm(FilingForm):
    persons = (
        ("subject1", "事件本人", ROLE.SUBJECT, True),
        ("subject2", "事件本人（2人目）", ROLE.SUBJECT, False),
        ("other", "相手方・届出人", ROLE.NOTIFIER, False),
    )

    def add_fields(self) -> None:
        self.fields["other_role"] = forms.ChoiceField(
            label="相手方の立場",
            required=False,
            choices=[
                (r.value, r.label)
                for r in (ROLE.NOTIFIER, ROLE.RECOGNIZER, ROLE.GUARDIAN, ROLE.FATHER, ROLE.MOTHER, ROLE.SPOUSE)
            ],
            initial=ROLE.RECOGNIZER if self.kind == "recognition" else ROLE.NOTIFIER,
        )
        self.fields["contents"] = forms.CharField(
            label="届出の内容（身分事項）",
            max_length=500,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        )

    def kind_groups(self) -> list[tuple[str, list[str]]]:
        return [("内容", ["contents"])]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if self.errors:
            return d
        subjects = [self.filed_person(p, ROLE.SUBJECT) for p in ("subject1", "subject2")]
        other = self.filed_person("other", d.get("other_role") or ROLE.NOTIFIER)
        self.values = {
            "persons": [p for p in [*subjects, other] if p is not None],
            "details": {"contents": (d.get("contents") or "").strip()} if d.get("contents") else {},
        }
        return d
