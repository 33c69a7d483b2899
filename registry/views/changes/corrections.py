"""職権修正の画面 (誤記修正を含む): a 住民票 or a 除票."""

from audit.visibility import hidden_names

from ... import locks, services
from ...forms.changes.corrections import AmendmentForm
from .base import RegistryFlow, screen


class AmendmentFlow(RegistryFlow):
    """職権修正: the items the clerk changes on the form are corrected; a 除票 is corrected too (a statutory
    correction)."""

    view_name = "ex_officio_amendment"
    reason_label = "職権修正"

    def load(self) -> None:
        self.resident = self.open_resident(self.kwargs["resident_id"], current=False)

    def build_form(self, data=None) -> AmendmentForm:
        return AmendmentForm(data, resident=self.resident, hidden_names=hidden_names(self.request.user))

    def lock_keys(self, form=None) -> list:
        return [] if form is not None else [locks.resident_key(self.resident)]

    def execute(self, form: AmendmentForm):
        d = form.cleaned_data
        return services.ex_officio_amendment(
            self.resident, form.changes(), change_date=d["change_date"], note=d["note"]
        )

    def context(self) -> dict:
        return {**super().context(), "person": self.resident}


ex_officio_amendment = screen(AmendmentFlow, action="corrections.ex_officio_amendment", label="異動入力（職権修正）")
