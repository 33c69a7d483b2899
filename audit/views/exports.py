"""書き出し (監督者): the filtered access log, or records for a hand-over, as an AES-256 encrypted ZIP.

Each export: the form (the screen's own filter, the purpose, the recipient) → 確認 → 記録 (common.confirm.OneStepFlow).
The 記録 step writes the file first (no transaction held: it may be long), then opens the request's transaction in
which the 管理簿 entry, its `operation` entry and the gate's access entry (naming the exported persons) commit
together; the answer shows the password once (no-store; a reload re-posts a spent one-time token and shows it no
more) and a download button. The download (POST, by the supervisor who made the export) hands the file over once and
removes it."""

import functools
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from common.confirm import OneStepFlow
from registry.models import UsedSubmissionToken

from ..exports import records, service, storage
from ..exports.audit_log import describe
from ..exports.password import grouped
from ..forms_exports import AuditLogExportForm, RecordsExportForm
from ..gate import gate_of, personal_data_view
from ..log import record_access
from ..models import AuditLogEntry, HandoverRecord

EXPORT = "audit.export_records"
DOWNLOADABLE = (HandoverRecord.Kind.AUDIT_LOG_CSV, HandoverRecord.Kind.RECORDS_CSV)
ALREADY_DONE = (
    "この書き出しはすでに処理されています（二重送信・再読み込み）。"
    "パスワードは再表示できません。管理簿で確かめてください。"
)
_TRANSACTION = "_export_transaction"


# --- One transaction for the 管理簿 entry and the gate's access entry --------------------------------------------


def _begin_transaction(request: HttpRequest, on_rollback: Callable[[], None]) -> None:
    """Open the transaction that the rest of the request (the 管理簿 entry, then the gate's access entry) joins;
    closed by @in_request_transaction around the gate, which calls `on_rollback` (remove the file) if it fails."""
    atomic = transaction.atomic()
    atomic.__enter__()
    setattr(request, _TRANSACTION, (atomic, on_rollback))


def in_request_transaction(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Outside the gate: commit the transaction the view opened (with `_begin_transaction`) after the gate wrote its
    access entry; roll it back if anything failed, and then log the failure (the gate's own `error` entry went
    with the rollback). Requests that never opened it are untouched."""
    gate = gate_of(view)
    if gate is None:
        raise ImproperlyConfigured("@in_request_transaction goes outside @personal_data_view")

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except BaseException as exc:
            opened = request.__dict__.pop(_TRANSACTION, None)
            if opened is not None:
                atomic, on_rollback = opened
                atomic.__exit__(type(exc), exc, exc.__traceback__)
                on_rollback()
                if isinstance(exc, Exception):
                    record_access(
                        request,
                        gate.action,
                        AuditLogEntry.Outcome.ERROR,
                        subject_kind=gate.subject_kind,
                        conditions={"rolled_back": True},
                    )
            raise
        opened = request.__dict__.pop(_TRANSACTION, None)
        if opened is not None:
            atomic, on_rollback = opened
            try:
                atomic.__exit__(None, None, None)
            except BaseException:
                on_rollback()
                raise
        return response

    return wrapped


# --- The exports: form → 確認 → 記録 -----------------------------------------------------------------------------


class _ExportFlow(OneStepFlow):
    """記録 writes the file first (no transaction held), then opens the request's transaction for the 管理簿 entry and
    the gate's access entry, and answers with the password (not a redirect)."""

    confirm_template = "audit/export_confirm.html"
    token_model = UsedSubmissionToken
    already_done = ALREADY_DONE
    form_class: type = None  # type: ignore[assignment]

    def build_form(self, data=None):
        if data is not None:
            return self.form_class(data)
        # A link from the screen the export comes from may carry its filter in the query string.
        initial = {name: self.request.GET[name] for name in self.form_class.base_fields if self.request.GET.get(name)}
        return self.form_class(initial=initial)

    def confirm_context(self, form) -> dict:
        return {"title": self.title, "action_url": self.request.path, "facts": self.facts()}

    def facts(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def prepare(self):
        raise NotImplementedError

    def recorded(self, form, used) -> HttpResponse:
        prepared = self.prepare()
        _begin_transaction(self.request, prepared.discard)
        result = service.record_export(
            prepared,
            user=self.request.user,
            purpose=form.cleaned_data["purpose"],
            recipient=form.cleaned_data["recipient"],
            request=self.request,
        )
        self.exported(result)
        return render(
            self.request,
            "audit/export_result.html",
            {
                "handover": result.handover,
                "password": result.password,
                "password_grouped": grouped(result.password),
                "left_out": result.left_out,
            },
        )

    def exported(self, result: service.ExportResult) -> None:
        """Name in the access entry what was exported."""

    def return_url(self) -> str:
        return reverse("audit:ledger")


# --- アクセスログの書き出し ----------------------------------------------------------------------------------------


class AuditLogExportFlow(_ExportFlow):
    purpose = "audit:export_audit_log"
    title = "アクセスログの書き出し"
    form_template = "audit/export_audit_log_form.html"
    form_class = AuditLogExportForm

    def opened(self, form) -> None:
        self.filter = form.to_filter()
        self.content, conditions = describe(self.filter)
        self.access.conditions = {**conditions, "step": self.step()}
        if self.filter.person is not None:
            self.access.show(self.filter.person.residents)

    def facts(self) -> list[tuple[str, str]]:
        return [("内容", self.content)]

    def prepare(self):
        return service.prepare_audit_log(self.filter)

    def exported(self, result: service.ExportResult) -> None:
        self.access.conditions["handover_id"] = result.handover.pk


@in_request_transaction
@personal_data_view(EXPORT, subject_kind="audit_log", action="exports.audit_log_export", label="アクセスログの書き出し")
@never_cache
@require_http_methods(["GET", "POST"])
def audit_log_export(request: HttpRequest, access) -> HttpResponse:
    return AuditLogExportFlow(request, access).handle()


# --- 記録の提供（住民票の記載事項） -------------------------------------------------------------------------------


class RecordsExportFlow(_ExportFlow):
    purpose = "audit:export_records"
    title = "記録の提供（住民票の記載事項）"
    form_template = "audit/export_records_form.html"
    form_class = RecordsExportForm

    def opened(self, form) -> None:
        self.selection = form.to_selection()
        self.access.conditions = {**self.selection.access_conditions(), "step": self.step()}

    def confirm_context(self, form) -> dict:
        self.counts = records.preview(self.selection, self.request.user)
        if self.counts.too_many:
            raise ValidationError(f"条件に合う人が{records.MAX_ROWS}人を超えています。条件を絞ってください。")
        return {**super().confirm_context(form), "nothing": self.counts.exported == 0}

    def facts(self) -> list[tuple[str, str]]:
        content, _ = self.selection.describe()
        facts = [
            ("内容", content),
            ("該当", f"{self.counts.selected}人"),
            ("書き出す人数", f"{self.counts.exported}人"),
            ("閲覧制限により除く人数", f"{self.counts.left_out}人"),
        ]
        if self.selection.by_codes:
            facts.append(("該当する住民票のない住民票コード", "、".join(self.counts.not_found) or "なし"))
        return facts

    def prepare(self):
        return service.prepare_records(self.selection, self.request.user)

    def exported(self, result: service.ExportResult) -> None:
        self.access.show(result.exported_ids)
        self.access.conditions.update({"handover_id": result.handover.pk, "left_out": result.left_out})


@in_request_transaction
@personal_data_view(
    EXPORT, subject_kind="resident", action="exports.records_export", label="記録の提供（住民票の記載事項）"
)
@never_cache
@require_http_methods(["GET", "POST"])
def records_export(request: HttpRequest, access) -> HttpResponse:
    return RecordsExportFlow(request, access).handle()


# --- ダウンロード（一回限り） ----------------------------------------------------------------------------------------


@personal_data_view(EXPORT, subject_kind="handover", action="exports.download", label="書き出したファイルの受け取り")
@never_cache
@require_http_methods(["GET", "POST"])
def download(request: HttpRequest, access, handover_id: int) -> HttpResponse | FileResponse:
    """GET: the file's facts and, for the supervisor who made it while it waits, the download button. POST: the file,
    once; it is removed from the export folder as it is sent."""
    record = get_object_or_404(HandoverRecord.objects.select_related("handler"), pk=handover_id, kind__in=DOWNLOADABLE)
    access.conditions = {"handover_id": record.pk}
    mine = record.handler_id == request.user.pk
    if request.method == "POST":
        handle = storage.claim(record.file_name) if mine else None
        if handle is not None:
            access.conditions["downloaded"] = True
            return FileResponse(handle, as_attachment=True, filename=record.file_name, content_type="application/zip")
        access.conditions["downloaded"] = False
        messages.warning(
            request,
            "ダウンロードできません：ファイルはダウンロード済みか、保管期限を過ぎて削除されました。"
            if mine
            else "ダウンロードできるのは書き出した職員だけです。",
        )
    return render(
        request,
        "audit/export_download.html",
        {"handover": record, "mine": mine, "waiting": storage.is_waiting(record.file_name)},
    )
