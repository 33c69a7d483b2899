"""Forms of the export screens and the 管理簿 filter. Each export form is the filter of the screen it comes from
(the access-log filter, the 住民検索 conditions) plus what the 管理簿 needs: the purpose (required) and the
recipient. Messages in Japanese, next to the field."""

from django import forms

from common.forms import WarekiDateField
from registry.forms.search import ResidentSearchForm

from .exports.ledger import LedgerFilter
from .exports.records import RecordSelection, parse_codes
from .forms import LogFilterForm
from .models import HandoverRecord
from .selectors import LogFilter

HANDOVER_FIELDS = ("purpose", "recipient")
CONDITION_FIELDS = ("name", "kana", "birth_date", "address", "household_number", "juminhyo_code")


def _purpose_field() -> forms.CharField:
    return forms.CharField(
        label="目的",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "書き出しの目的を入力してください。"},
        help_text="管理簿に残ります。例：監査委員への提出（令和8年度定期監査）",
    )


def _recipient_field() -> forms.CharField:
    return forms.CharField(
        label="提供先",
        max_length=200,
        required=False,
        help_text="ファイルを渡す相手（部署・団体名）。管理簿に残ります",
    )


class AuditLogExportForm(LogFilterForm):
    purpose = _purpose_field()
    recipient = _recipient_field()

    def filter_fields(self) -> list:
        return [self[name] for name in self.fields if name not in HANDOVER_FIELDS]

    def handover_fields(self) -> list:
        return [self[name] for name in HANDOVER_FIELDS]

    def to_filter(self) -> LogFilter:
        data = self.cleaned_data
        return LogFilter(
            username=data.get("username", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            outcome=data.get("outcome", ""),
            category=data.get("category", ""),
            action=data.get("action", ""),
            person=data.get("person"),
            off_hours_only=data.get("off_hours", False),
        )


class RecordsExportForm(ResidentSearchForm):
    """The 住民検索 conditions, or a pasted list of 住民票コード (one of the two)."""

    codes = forms.CharField(
        label="住民票コードの一覧",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "inputmode": "numeric", "autocomplete": "off"}),
        help_text="検索条件の代わりに、1行に1件（カンマ・空白区切りも可）。全角数字も可",
    )
    purpose = _purpose_field()
    recipient = _recipient_field()

    def search_fields(self) -> list:
        return [self[name] for name in self.fields if name not in (*HANDOVER_FIELDS, "codes", "status")]

    def handover_fields(self) -> list:
        return [self[name] for name in HANDOVER_FIELDS]

    def clean_codes(self) -> list[str]:
        return parse_codes(self.cleaned_data.get("codes", ""))

    def clean(self):
        data = super().clean()
        codes = data.get("codes") or []
        has_conditions = any(data.get(name) for name in CONDITION_FIELDS)
        if any(name in self.errors for name in (*CONDITION_FIELDS, "codes")):
            return data  # the field's own message says what to fix
        if codes and has_conditions:
            raise forms.ValidationError("検索条件と住民票コードの一覧は、どちらか一方だけ指定してください。")
        if not codes and not has_conditions:
            raise forms.ValidationError("検索条件か、住民票コードの一覧を入力してください。")
        return data

    def to_selection(self) -> RecordSelection:
        data = self.cleaned_data
        status = data.get("status") or "current"
        if data.get("codes"):
            return RecordSelection(codes=tuple(data["codes"]), status=status)
        return RecordSelection(query=self.to_query(), status=status)


class LedgerFilterForm(forms.Form):
    date_from = WarekiDateField(label="期間（から）", required=False)
    date_to = WarekiDateField(label="期間（まで）", required=False)
    kind = forms.ChoiceField(label="種類", choices=[("", "すべて"), *HandoverRecord.Kind.choices], required=False)
    handler = forms.CharField(label="取扱者ID", max_length=150, required=False, help_text="職員ID、またはバッチ名")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "期間の終わりは始まりより後の日にしてください。")
        return cleaned

    def to_filter(self) -> LedgerFilter:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return LedgerFilter(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            kind=data.get("kind", ""),
            handler=(data.get("handler") or "").strip(),
        )
