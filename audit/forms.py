"""Forms of the supervisor's screens: the access-log filter and the 閲覧制限・個別許可 actions. Messages in Japanese,
next to the field; dates are common.forms.WarekiDateField (和暦 or 西暦 typed, shown as 和暦 with 西暦 beside it)."""

import datetime as dt
from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from common.forms import WarekiDateField
from common.validators import validate_juminhyo_code
from common.wareki import to_wareki_with_seireki

from .models import AccessRestriction, AuditLogEntry
from .restrictions import MAX_GRANT_DAYS
from .selectors import PersonRecords, find_person

MAX_TYPED = 20  # longest person key a clerk types


def _typed_text(value) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_TYPED:
        raise ValidationError(f"{MAX_TYPED}文字以内で入力してください。", code="max_length")
    return text


class PersonField(forms.Field):
    """住民票 id (digits) or 住民票コード (11 digits with its check digit) → the person's records."""

    widget = forms.TextInput

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("help_text", "住民票ID（数字）または住民票コード（11桁）")
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "maxlength": str(MAX_TYPED), "inputmode": "numeric"}

    def prepare_value(self, value):
        return value.juminhyo_code if isinstance(value, PersonRecords) else value

    def to_python(self, value) -> PersonRecords | None:
        text = _typed_text(value).translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if not text:
            return None
        if not (text.isascii() and text.isdigit()):
            raise ValidationError("住民票ID（数字）または住民票コード（11桁の数字）を入力してください。", code="person")
        if len(text) == 11:
            validate_juminhyo_code(text)
            person = find_person(juminhyo_code=text)
        else:
            person = find_person(resident_id=int(text))
        if not person:
            raise ValidationError("該当する住民票・附票がありません。", code="person_not_found")
        return person


def choices_with_all(choices) -> list[tuple[str, str]]:
    return [("", "すべて"), *choices]


class LogFilterForm(forms.Form):
    username = forms.CharField(label="職員ID", max_length=150, required=False)
    date_from = WarekiDateField(label="期間（から）", required=False)
    date_to = WarekiDateField(label="期間（まで）", required=False)
    outcome = forms.ChoiceField(label="結果", choices=choices_with_all(AuditLogEntry.Outcome.choices), required=False)
    category = forms.ChoiceField(label="区分", choices=choices_with_all(AuditLogEntry.Category.choices), required=False)
    action = forms.CharField(
        label="画面・操作", max_length=60, required=False, help_text="一覧から選ぶか、操作名を入力"
    )
    person = PersonField(label="対象者", required=False)
    off_hours = forms.BooleanField(label="時間外・閉庁日のみ", required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "期間の終わりは始まりより後の日にしてください。")
        return cleaned


class RestrictForm(forms.Form):
    person = PersonField(
        label="対象者",
        error_messages={"required": "閲覧制限をかける人の住民票IDまたは住民票コードを入力してください。"},
    )
    kind = forms.ChoiceField(
        label="種別", choices=AccessRestriction.Kind.choices, error_messages={"required": "種別を選んでください。"}
    )
    reason = forms.CharField(
        label="理由",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "閲覧制限の理由を入力してください。"},
        help_text="申出の受付番号など、後から確かめられる内容",
    )
    starts_on = WarekiDateField(label="開始日", error_messages={"required": "開始日を入力してください。"})
    ends_on = WarekiDateField(
        label="終了予定日", required=False, help_text="空欄可（到来しても自動では解除しません）。"
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("starts_on"), cleaned.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", "終了予定日は開始日以降にしてください。")
        return cleaned


class LiftForm(forms.Form):
    reason = forms.CharField(
        label="解除の理由",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "解除の理由を入力してください。"},
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="取消の理由",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "取消の理由を入力してください。"},
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{obj.get_username()}（{full}）" if full else obj.get_username()


def record_key(record) -> str:
    return f"{'resident' if record._meta.model_name == 'resident' else 'fuhyo'}:{record.pk}"


def record_label(record) -> str:
    if record._meta.model_name == "resident":
        state = "現存" if record.status == "current" else "除票"
        return f"住民票 #{record.pk}（{state}）"
    return f"附票 #{record.pk}（戸籍 #{record.koseki_id}）"


class GrantForm(forms.Form):
    """Grant one clerk access to one record of a restricted person, for a reason, until a day at most
    MAX_GRANT_DAYS ahead (the grant ends at the end of that day, or exactly MAX_GRANT_DAYS from now)."""

    user = StaffChoiceField(
        label="許可を受ける職員",
        queryset=get_user_model().objects.none(),
        error_messages={"required": "許可を受ける職員を選んでください。", "invalid_choice": "選んだ職員がいません。"},
    )
    record = forms.ChoiceField(label="対象の記録", error_messages={"required": "対象の記録を選んでください。"})
    reason = forms.CharField(
        label="許可の理由",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "許可の理由を入力してください。"},
    )
    expires_on = WarekiDateField(
        label="有効期限（この日まで）",
        error_messages={"required": "有効期限を入力してください。"},
        help_text=f"今日から{MAX_GRANT_DAYS}日以内。",
    )

    def __init__(self, *args, actor, records, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.records = {record_key(r): r for r in records}
        cast(forms.ChoiceField, self.fields["record"]).choices = [
            (key, record_label(r)) for key, r in self.records.items()
        ]
        if len(self.records) == 1:
            self.fields["record"].initial = next(iter(self.records))
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = (
            get_user_model().objects.filter(is_active=True).exclude(pk=actor.pk).order_by("username")
        )

    def clean_expires_on(self) -> dt.date:
        day = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if day < today:
            raise ValidationError("有効期限は今日以降の日にしてください。")
        if day > today + dt.timedelta(days=MAX_GRANT_DAYS):
            last = to_wareki_with_seireki(today + dt.timedelta(days=MAX_GRANT_DAYS))
            raise ValidationError(f"有効期限は{MAX_GRANT_DAYS}日以内（{last}まで）にしてください。")
        return day

    def expires_at(self) -> dt.datetime:
        """End of the chosen day in the ward's time, capped at MAX_GRANT_DAYS from now."""
        day = self.cleaned_data["expires_on"]
        end_of_day = timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))
        return min(end_of_day, timezone.now() + dt.timedelta(days=MAX_GRANT_DAYS) - dt.timedelta(minutes=1))

    def chosen_record(self):
        return self.records[self.cleaned_data["record"]]
