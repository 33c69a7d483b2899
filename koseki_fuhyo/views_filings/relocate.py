"""届出 by which persons move between 戸籍: 婚姻届, the 入除籍を伴う届, 転籍届."""

from ..filing_forms.relocate import HonsekiTransferForm, MarriageForm, RelocationForm
from ..services import filings
from .base import FilingFlow, screen


class MarriageFlow(FilingFlow):
    """婚姻届 (74条)."""

    view_name = "file_marriage"
    form_class = MarriageForm

    def execute(self, form: MarriageForm):
        v = form.values
        return filings.file_marriage(
            form.header(), v["husband"], v["wife"], surname_from=v["surname_from"], place=v["place"]
        )


class RelocationFlow(FilingFlow):
    """養子縁組・離縁・特別養子縁組・離婚・77条の2・73条の2・生存配偶者の復氏・入籍・分籍."""

    view_name = "file_relocation"
    form_class = RelocationForm

    def execute(self, form: RelocationForm):
        v = form.values
        return filings.file_relocation(
            self.kind,
            form.header(),
            v["subjects"],
            v["place"],
            new_surname=v["new_surname"],
            new_surname_kana=v["new_surname_kana"],
            others=v["others"],
        )


class HonsekiTransferFlow(FilingFlow):
    """転籍届 (108条): every member of the 戸籍 is concerned (and locked when living in the ward)."""

    view_name = "file_honseki_transfer"
    form_class = HonsekiTransferForm

    def extra_lock_keys(self, form) -> list:
        return self.koseki_member_keys(form.values["koseki"])

    def execute(self, form: HonsekiTransferForm):
        return filings.file_honseki_transfer(form.header(), form.values["koseki"], form.values["new_place"])


file_marriage = screen(MarriageFlow, action="relocate.file_marriage", label="戸籍届出（婚姻届）")
file_relocation = screen(
    RelocationFlow, action="relocate.file_relocation", label="戸籍届出（縁組・離縁・離婚・入籍・分籍など）"
)
file_honseki_transfer = screen(HonsekiTransferFlow, action="relocate.file_honseki_transfer", label="戸籍届出（転籍届）")
