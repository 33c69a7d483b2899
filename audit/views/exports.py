"""書き出し (監督者): the filtered access log, or records for a hand-over, as an AES-256 encrypted ZIP.

Each export: the form (the screen's own filter, the purpose, the recipient) → 確認 → 記録. The 記録 step writes the
file first (no transaction held: it may be long), then opens the request's transaction in which the 管理簿 entry,
its `operation` entry and the gate's access entry (naming the exported persons) commit together; the answer shows
the password once (no-store; a reload re-posts a spent one-time token and shows it no more) and a download button.
The download (POST, by the supervisor who made the export) hands the file over once and removes it."""

import functools
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ..exports import records, service, storage
from ..exports.audit_log import describe
from ..exports.password import grouped
from ..forms_exports import AuditLogExportForm, RecordsExportForm
from ..gate import gate_of, personal_data_view
from ..log import record_access
from ..models import AuditLogEntry, HandoverRecord
from . import once

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


# --- Helpers -------------------------------------------------------------------------------------------------------


def _step(request: HttpRequest) -> str:
    if request.method != "POST":
        return "form"
    if "back" in request.POST:
        return "back"
    return request.POST.get("step", "confirm")


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _result(request: HttpRequest, result: service.ExportResult, **extra) -> HttpResponse:
    return render(
        request,
        "audit/export_result.html",
        {
            "handover": result.handover,
            "password": result.password,
            "password_grouped": grouped(result.password),
            "left_out": result.left_out,
            **extra,
        },
    )


def _initial_from_query(request: HttpRequest, form_class) -> dict:
    """A link from the screen the export comes from may carry its filter in the query string."""
    return {name: request.GET[name] for name in form_class.base_fields if request.GET.get(name)}


# --- アクセスログの書き出し ----------------------------------------------------------------------------------------


@in_request_transaction
@personal_data_view(EXPORT, subject_kind="audit_log", action="exports.audit_log_export", label="アクセスログの書き出し")
@never_cache
@require_http_methods(["GET", "POST"])
def audit_log_export(request: HttpRequest, access) -> HttpResponse:
    step = _step(request)
    if step == "form":
        form = AuditLogExportForm(initial=_initial_from_query(request, AuditLogExportForm))
        return render(request, "audit/export_audit_log_form.html", {"form": form})
    form = AuditLogExportForm(request.POST)
    if step == "back" or not form.is_valid():
        return render(request, "audit/export_audit_log_form.html", {"form": form})
    flt = form.to_filter()
    content, conditions = describe(flt)
    access.conditions = {**conditions, "step": step}
    if flt.person is not None:
        access.show(flt.person.residents)
    if step != "commit":
        return render(
            request,
            "audit/export_confirm.html",
            {
                "form": form,
                "token": once.issue(request),
                "title": "アクセスログの書き出し",
                "action_url": request.path,
                "facts": [("内容", content)],
            },
        )
    if not once.consume(request, request.POST.get("token", "")):
        messages.warning(request, ALREADY_DONE)
        return redirect("audit:ledger")
    prepared = service.prepare_audit_log(flt)
    _begin_transaction(request, prepared.discard)
    try:
        result = service.record_export(
            prepared,
            user=request.user,
            purpose=form.cleaned_data["purpose"],
            recipient=form.cleaned_data["recipient"],
            request=request,
        )
    except ValidationError as exc:
        _apply_errors(form, exc)
        return render(request, "audit/export_audit_log_form.html", {"form": form})
    access.conditions["handover_id"] = result.handover.pk
    return _result(request, result)


# --- 記録の提供（住民票の記載事項） -------------------------------------------------------------------------------


@in_request_transaction
@personal_data_view(
    EXPORT, subject_kind="resident", action="exports.records_export", label="記録の提供（住民票の記載事項）"
)
@never_cache
@require_http_methods(["GET", "POST"])
def records_export(request: HttpRequest, access) -> HttpResponse:
    step = _step(request)
    if step == "form":
        form = RecordsExportForm(initial=_initial_from_query(request, RecordsExportForm))
        return render(request, "audit/export_records_form.html", {"form": form})
    form = RecordsExportForm(request.POST)
    if step == "back" or not form.is_valid():
        return render(request, "audit/export_records_form.html", {"form": form})
    selection = form.to_selection()
    access.conditions = {**selection.access_conditions(), "step": step}
    if step != "commit":
        preview = records.preview(selection, request.user)
        if preview.too_many:
            form.add_error(None, f"条件に合う人が{records.MAX_ROWS}人を超えています。条件を絞ってください。")
            return render(request, "audit/export_records_form.html", {"form": form})
        content, _ = selection.describe()
        facts = [
            ("内容", content),
            ("該当", f"{preview.selected}人"),
            ("書き出す人数", f"{preview.exported}人"),
            ("閲覧制限により除く人数", f"{preview.left_out}人"),
        ]
        if selection.by_codes:
            facts.append(("該当する住民票のない住民票コード", "、".join(preview.not_found) or "なし"))
        return render(
            request,
            "audit/export_confirm.html",
            {
                "form": form,
                "token": once.issue(request),
                "title": "記録の提供（住民票の記載事項）",
                "action_url": request.path,
                "facts": facts,
                "nothing": preview.exported == 0,
            },
        )
    if not once.consume(request, request.POST.get("token", "")):
        messages.warning(request, ALREADY_DONE)
        return redirect("audit:ledger")
    try:
        prepared = service.prepare_records(selection, request.user)
    except ValidationError as exc:
        _apply_errors(form, exc)
        return render(request, "audit/export_records_form.html", {"form": form})
    _begin_transaction(request, prepared.discard)
    try:
        result = service.record_export(
            prepared,
            user=request.user,
            purpose=form.cleaned_data["purpose"],
            recipient=form.cleaned_data["recipient"],
            request=request,
        )
    except ValidationError as exc:
        _apply_errors(form, exc)
        return render(request, "audit/export_records_form.html", {"form": form})
    access.show(result.exported_ids)
    access.conditions.update({"handover_id": result.handover.pk, "left_out": result.left_out})
    return _result(request, result)


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
