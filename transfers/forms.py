"""Forms of the notice screens: the list filters, the 再送 reason and the note of an inbox action. Dates accept 和暦
as well as 西暦 (the access log's field)."""

from typing import cast

from django import forms

from common.forms import WarekiDateField
from registry.models import Household

from .authority import CONFIRM_NEEDS_NOTE
from .models import InboundNotice, OutboundNotice
from .routing import NoticeKind
from .views.display import INBOX_ACTIONS, INBOX_ACTIONS_BY_KEY


def _with_all(choices) -> list[tuple[str, str]]:
    return [("", "すべて"), *choices]


class _PeriodForm(forms.Form):
    date_from = WarekiDateField(label="期間（から）", required=False)
    date_to = WarekiDateField(label="期間（まで）", required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "期間の終わりは始まりより後の日にしてください。")
        return cleaned


class OutboxFilterForm(_PeriodForm):
    state = forms.ChoiceField(label="状態", choices=_with_all(OutboundNotice.State.choices), required=False)
    kind = forms.ChoiceField(label="種類", choices=_with_all(NoticeKind.choices), required=False)
    receiver = forms.CharField(
        label="宛先", max_length=10, required=False, help_text="地方公共団体コード（6桁）または J-LIS"
    )
    overdue = forms.BooleanField(label="遅延・失敗・未接続のみ", required=False)

    field_order = ["state", "kind", "receiver", "date_from", "date_to", "overdue"]

    def clean_receiver(self) -> str:
        return self.cleaned_data["receiver"].strip()


class InboxFilterForm(_PeriodForm):
    state = forms.ChoiceField(label="状態", choices=_with_all(InboundNotice.State.choices), required=False)
    kind = forms.ChoiceField(label="種類", choices=_with_all(NoticeKind.choices), required=False)
    sender = forms.CharField(
        label="送信元", max_length=10, required=False, help_text="地方公共団体コード（6桁）または J-LIS"
    )
    authority_refused = forms.BooleanField(
        label="送信元の権限が認められなかった通知だけ", required=False, help_text="要確認（送信元の権限）"
    )

    field_order = ["state", "kind", "sender", "authority_refused", "date_from", "date_to"]

    def clean_sender(self) -> str:
        return self.cleaned_data["sender"].strip()


class ResendForm(forms.Form):
    reason = forms.CharField(
        label="再送の理由",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "再送の理由を入力してください。"},
        help_text="相手先との連絡の内容など、後から確かめられる内容",
    )


class ResolveForm(forms.Form):
    """One action on a waiting inbound notice, with the clerk's note (required where the action says so)."""

    action = forms.ChoiceField(
        label="処理",
        choices=[(a.key, a.label) for a in INBOX_ACTIONS],
        error_messages={"required": "処理を選んでください。", "invalid_choice": "この処理は選べません。"},
    )
    note = forms.CharField(
        label="処理メモ",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="修正済・対応不要のときは必須（確かめた内容、相手先との連絡など）",
    )

    # A 住民票記載事項通知 that enters a new person (出生 …) is confirmed into a 世帯 the clerk chooses.
    household_number = forms.CharField(
        label="記載する世帯の世帯番号",
        max_length=10,
        required=False,
        help_text="住民票の記載を確定するとき（出生など、この区に住民票のない人）",
    )
    relationship = forms.CharField(label="世帯主との続柄", max_length=20, required=False, initial="子")

    def __init__(self, *args, allowed=None, inbound: InboundNotice | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if allowed is not None:
            cast(forms.ChoiceField, self.fields["action"]).choices = [(a.key, a.label) for a in allowed]
        self.asks_household = inbound is not None and inbound.kind == NoticeKind.JUMINHYO_ITEMS
        self.authority_refused = inbound is not None and bool(inbound.authority_refusal)
        if not self.asks_household:
            del self.fields["household_number"]
            del self.fields["relationship"]

    def clean(self):
        cleaned = super().clean()
        action = INBOX_ACTIONS_BY_KEY.get(cleaned.get("action", ""))
        cleaned["note"] = (cleaned.get("note") or "").strip()
        if action is not None and action.note_required and not cleaned["note"]:
            self.add_error("note", f"「{action.label}」には処理メモが必要です。")
        elif action is not None and action.key == "confirm" and self.authority_refused and not cleaned["note"]:
            self.add_error("note", CONFIRM_NEEDS_NOTE)
        cleaned["household"] = None
        number = (cleaned.get("household_number") or "").strip()
        if self.asks_household and action is not None and action.key == "confirm" and number:
            cleaned["household"] = Household.objects.filter(number=number, dissolved_on__isnull=True).first()
            if cleaned["household"] is None:
                self.add_error("household_number", "この世帯番号の世帯（現存）がありません。")
        return cleaned

    def options(self) -> dict:
        """What the confirm of the kind needs besides the note (transfers.inbox.confirm's options)."""
        if not (self.asks_household and self.cleaned_data["action"] == "confirm"):
            return {}
        options = {"relationship": self.cleaned_data.get("relationship") or "子"}
        if self.cleaned_data.get("household") is not None:
            options["household"] = self.cleaned_data["household"]
        return options

    @property
    def chosen(self):
        return INBOX_ACTIONS_BY_KEY[self.cleaned_data["action"]]
