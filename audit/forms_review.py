"""Forms of the supervisors' review screens: the audit review filter and the review of an analysis flag."""

from __future__ import annotations

from django import forms

from common.forms import WarekiDateField
from koseki_fuhyo.models import FuhyoEntry

from . import labels
from .forms import PersonField, choices_with_all
from .models import AnalysisFlag, AuditLogEntry
from .review import ReviewFilter, Source
from .selectors import PersonRecords, find_person


class ReviewFilterForm(forms.Form):
    source = forms.ChoiceField(label="記録の種類", choices=Source.CHOICES, required=False)
    username = forms.CharField(label="職員ID", max_length=150, required=False)
    date_from = WarekiDateField(label="期間（から）", required=False)
    date_to = WarekiDateField(label="期間（まで）", required=False)
    action = forms.ChoiceField(label="画面・操作", choices=labels.action_choices, required=False)
    outcome = forms.ChoiceField(label="結果", choices=choices_with_all(AuditLogEntry.Outcome.choices), required=False)
    person = PersonField(label="対象者", required=False)
    fuhyo = forms.IntegerField(label="附票記載ID", required=False, min_value=1, widget=forms.HiddenInput)
    partner = forms.CharField(
        label="通信相手",
        max_length=10,
        required=False,
        help_text="地方公共団体コード（6桁）または J-LIS",
        widget=forms.TextInput(attrs={"maxlength": "10", "autocomplete": "off"}),
    )

    def clean_fuhyo(self) -> PersonRecords | None:
        """A 附票 row without a 住民票コード (the 附票 page links with its id): that row, else the person by code."""
        pk = self.cleaned_data.get("fuhyo")
        if pk is None:
            return None
        entry = FuhyoEntry.objects.filter(pk=pk).first()
        if entry is None:
            raise forms.ValidationError("該当する附票がありません。")
        if entry.juminhyo_code:
            return find_person(juminhyo_code=entry.juminhyo_code)
        return PersonRecords(fuhyo_entries=(entry,))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "期間の終わりは始まりより後の日にしてください。")
        return cleaned

    def to_filter(self) -> ReviewFilter:
        data = self.cleaned_data
        return ReviewFilter(
            username=data.get("username", "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            source=data.get("source", ""),
            action=data.get("action", "").strip(),
            outcome=data.get("outcome", ""),
            person=data.get("person") or data.get("fuhyo"),
            partner=data.get("partner", "").strip(),
        )


class FlagFilterForm(forms.Form):
    STATE_CHOICES = [("open", "未確認"), ("reviewed", "確認済み"), ("all", "すべて")]

    analysed_on = WarekiDateField(label="対象日", required=False)
    kind = forms.ChoiceField(label="種類", choices=choices_with_all(AnalysisFlag.Kind.choices), required=False)
    state = forms.ChoiceField(label="確認", choices=STATE_CHOICES, required=False)
    username = forms.CharField(label="職員ID", max_length=150, required=False)


class FlagReviewForm(forms.Form):
    comment = forms.CharField(
        label="確認のコメント",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "確認のコメントを入力してください。"},
        help_text="何を確かめ、どう判断したか（本人への聞き取り、業務上の必要、残業の申請など）。氏名・住所は書かない",
    )
