"""The 住民検索 form: what the clerk typed → a ResidentQuery, with Japanese errors next to the field.

Input is folded the way clerks type: ひらがな and 半角カナ to full-width katakana (common.kana), 和暦 and 西暦 dates
(common.wareki), full-width digits, 世帯番号 without its leading zeros, 「2丁目」 for 「二丁目」.
"""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from common import kana
from common.validators import validate_juminhyo_code
from common.wareki import WarekiError, parse_date, to_wareki_with_seireki

from ..search import MIN_ADDRESS_ONLY_CHARS, ResidentQuery, fold_name, normalise_address

STATUS_CHOICES = [("current", "現存"), ("removed", "除票"), ("all", "両方")]


class ResidentSearchForm(forms.Form):
    name = forms.CharField(
        label="氏名",
        required=False,
        max_length=61,
        help_text="漢字の一部（氏・名・氏名のどこでも）",
        widget=forms.TextInput(attrs={"autocomplete": "off", "accesskey": "n", "inputmode": "text"}),
    )
    kana = forms.CharField(
        label="氏名カナ",
        required=False,
        max_length=121,
        help_text="前方一致。ひらがな・半角カナも可。氏と名の間は空白",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    birth_date = forms.CharField(
        label="生年月日",
        required=False,
        max_length=20,
        help_text="例：R6.5.27、令和6年5月27日、H1.1.8、2024-05-27",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    address = forms.CharField(
        label="住所",
        required=False,
        max_length=200,
        help_text="一部（町名・番地・方書）。例：北新宿4-18-5",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    household_number = forms.CharField(
        label="世帯番号",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    juminhyo_code = forms.CharField(
        label="住民票コード",
        required=False,
        max_length=11,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    status = forms.ChoiceField(
        label="対象", choices=STATUS_CHOICES, required=False, initial="current", widget=forms.RadioSelect
    )

    def clean_name(self) -> str:
        return fold_name(self.cleaned_data["name"])

    def clean_kana(self) -> str:
        value = unicodedata.normalize("NFKC", self.cleaned_data["kana"]) if self.cleaned_data["kana"] else ""
        # NFKC turns half-width kana into full-width and the ideographic space into a plain one.
        parts = kana.fold_kana(value).split()
        if len(parts) > 2:
            raise ValidationError("氏と名の間にだけ空白を入れてください。")
        folded = " ".join(parts)
        bad = kana.invalid_kana_characters(folded.replace(" ", ""))
        if bad:
            raise ValidationError(
                "カナに使えない文字があります：「%(chars)s」。カタカナ・ひらがなで入力してください。",
                params={"chars": "」「".join(bad)},
            )
        return folded

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"].strip()
        if not value:
            return None
        try:
            born = parse_date(value)
        except WarekiError as exc:
            raise ValidationError(str(exc)) from None
        if born > timezone.localdate():
            raise ValidationError(
                "生年月日が未来の日付です（%(read)sと読みました）。検索していません。",
                params={"read": to_wareki_with_seireki(born)},
            )
        return born

    def clean_address(self) -> str:
        return normalise_address(self.cleaned_data["address"]) if self.cleaned_data["address"] else ""

    def clean_household_number(self) -> str:
        value = unicodedata.normalize("NFKC", self.cleaned_data["household_number"]).strip()
        if value and not value.isdigit():
            raise ValidationError("世帯番号は数字で入力してください。")
        return value

    def clean_juminhyo_code(self) -> str:
        value = unicodedata.normalize("NFKC", self.cleaned_data["juminhyo_code"]).strip()
        if value:
            validate_juminhyo_code(value)
        return value

    def clean_status(self) -> str:
        return self.cleaned_data["status"] or "current"

    def clean(self):
        data = super().clean()
        address = data.get("address", "")
        others = any(data.get(f) for f in ("name", "kana", "birth_date", "household_number", "juminhyo_code"))
        if address and not others and len(address) < MIN_ADDRESS_ONLY_CHARS:
            self.add_error(
                "address",
                f"住所だけで検索するときは{MIN_ADDRESS_ONLY_CHARS}文字以上入力してください（他の条件と組み合わせれば短くても検索できます）。",
            )
        return data

    def to_query(self) -> ResidentQuery:
        data = self.cleaned_data
        return ResidentQuery(
            name=data["name"],
            kana=data["kana"],
            birth_date=data["birth_date"],
            address=data["address"],
            household_number=data["household_number"],
            juminhyo_code=data["juminhyo_code"],
            status=data["status"],
        )
