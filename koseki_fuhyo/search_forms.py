"""The 戸籍検索 form: what the clerk typed → a KosekiQuery, with Japanese errors next to the field."""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError

from common import kana as kana_text
from registry.search import fold_name, normalise_address

from .choices import KosekiStatus
from .search import MIN_HONSEKI_ONLY_CHARS, KosekiQuery


class KosekiSearchForm(forms.Form):
    honseki = forms.CharField(
        label="本籍", required=False, max_length=200, help_text="区名より後の一部。例：北新宿一丁目"
    )
    hittousha = forms.CharField(label="筆頭者の氏名", required=False, max_length=61, help_text="漢字の一部")
    hittousha_kana = forms.CharField(label="筆頭者の氏名カナ", required=False, max_length=121, help_text="前方一致")
    status = forms.ChoiceField(
        label="対象",
        required=False,
        initial="all",
        choices=[("all", "両方"), (KosekiStatus.CURRENT, "現在戸籍"), (KosekiStatus.CLOSED, "除籍")],
        widget=forms.RadioSelect,
    )

    def clean_honseki(self) -> str:
        return normalise_address(self.cleaned_data["honseki"]) if self.cleaned_data["honseki"] else ""

    def clean_hittousha(self) -> str:
        return fold_name(self.cleaned_data["hittousha"])

    def clean_hittousha_kana(self) -> str:
        value = unicodedata.normalize("NFKC", self.cleaned_data["hittousha_kana"])
        folded = "".join(kana_text.fold_kana(value).split())
        bad = kana_text.invalid_kana_characters(folded)
        if bad:
            raise ValidationError(
                "カナに使えない文字があります：「%(chars)s」。カタカナ・ひらがなで入力してください。",
                params={"chars": "」「".join(bad)},
            )
        return folded

    def clean_status(self) -> str:
        return self.cleaned_data["status"] or "all"

    def clean(self):
        data = super().clean()
        honseki = data.get("honseki", "")
        if (
            honseki
            and not (data.get("hittousha") or data.get("hittousha_kana"))
            and len(honseki) < MIN_HONSEKI_ONLY_CHARS
        ):
            self.add_error("honseki", f"本籍だけで検索するときは{MIN_HONSEKI_ONLY_CHARS}文字以上入力してください。")
        return data

    def to_query(self) -> KosekiQuery:
        d = self.cleaned_data
        return KosekiQuery(d["honseki"], d["hittousha"], d["hittousha_kana"], d["status"])
