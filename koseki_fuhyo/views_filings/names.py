"""届出 that change names: 氏の変更届, 名の変更届, 氏名の振り仮名の届."""

from ..filing_forms.names import FuriganaForm, GivenNameChangeForm, SurnameChangeForm
from ..services import filings
from .base import FilingFlow, screen


class SurnameChangeFlow(FilingFlow):
    """氏の変更届 (107条): every member of the 戸籍."""

    view_name = "file_surname_change"
    form_class = SurnameChangeForm

    def extra_lock_keys(self, form) -> list:
        return self.koseki_member_keys(form.values["koseki"])

    def execute(self, form: SurnameChangeForm):
        v = form.values
        return filings.file_surname_change(form.header(), v["koseki"], v["new_surname"], v["new_surname_kana"])


class GivenNameChangeFlow(FilingFlow):
    """名の変更届 (107条の2)."""

    view_name = "file_given_name_change"
    form_class = GivenNameChangeForm

    def execute(self, form: GivenNameChangeForm):
        v = form.values
        return filings.file_given_name_change(
            form.header(), v["subject"], v["new_given_name"], v["new_given_name_kana"]
        )


class FuriganaFlow(FilingFlow):
    """氏名の振り仮名の届."""

    view_name = "file_furigana"
    form_class = FuriganaForm

    def execute(self, form: FuriganaForm):
        v = form.values
        return filings.file_furigana(form.header(), v["subject"], v["surname_kana"], v["given_name_kana"])


file_surname_change = screen(SurnameChangeFlow, action="names.file_surname_change", label="戸籍届出（氏の変更届）")
file_given_name_change = screen(
    GivenNameChangeFlow, action="names.file_given_name_change", label="戸籍届出（名の変更届）"
)
file_furigana = screen(FuriganaFlow, action="names.file_furigana", label="戸籍届出（氏名の振り仮名の届）")
