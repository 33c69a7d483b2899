"""届出 recorded only in the 戸籍: 認知, 親権, 未成年後見, 姻族関係終了, 推定相続人廃除, 国籍留保, 国籍選択,
外国国籍喪失."""

from ..filing_forms.records import RecordOnlyForm
from ..services import filings
from .base import FilingFlow, screen


class RecordOnlyFlow(FilingFlow):
    view_name = "file_record_only"
    form_class = RecordOnlyForm

    def execute(self, form: RecordOnlyForm):
        return filings.file_record_only(self.kind, form.header(), form.values["persons"], form.values["details"])


file_record_only = screen(RecordOnlyFlow, action="records.file_record_only", label="戸籍届出（戸籍の記録のみの届）")
