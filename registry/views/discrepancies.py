"""住民票と附票の不一致 (registry:discrepancies): the tasks the nightly reconciliation opened, with the two registers'
values side by side, and the clerk's 処理済 with a note.

Both pages go through the gate: the persons shown are named in the access log; a restricted person is masked in
the list and answers 404 on the task page unless the clerk holds a grant. Resolving needs the clerks' permission to
resolve register mismatches (`transfers.resolve_inboundnotice`: both clerks and the supervisor, not the operator),
the same work as the mismatches the inbox brings."""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from audit.gate import RestrictedRecord, personal_data_view
from koseki_fuhyo.models import FuhyoEntry

from ..models import RegisterDiscrepancy, Resident
from ..reconcile import AlreadyResolved, ComparedItem, resolve, side_by_side

VIEW_PERMISSION = "registry.view_registerdiscrepancy"
RESOLVE_PERMISSION = "transfers.resolve_inboundnotice"
PAGE_SIZE = 100


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="処理メモ",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="訂正した内容（異動・届出の番号など）、または対応不要とした理由",
        error_messages={"required": "処理メモを入力してください。"},
    )


@dataclass
class TaskRow:
    task: RegisterDiscrepancy
    visible: bool
    name: str
    items: list[ComparedItem]


def _person(task: RegisterDiscrepancy) -> Resident | FuhyoEntry | None:
    return task.resident or task.fuhyo_entry


def _visible(access, task: RegisterDiscrepancy) -> bool:
    return all(access.may_see(record) for record in (task.resident, task.fuhyo_entry) if record is not None)


def _row(access, task: RegisterDiscrepancy, *, differing_only: bool) -> TaskRow:
    if not _visible(access, task):
        return TaskRow(task, False, "", [])
    person = _person(task)
    name = f"{person.surname}　{person.given_name}" if person is not None else ""
    items = side_by_side(task.resident, task.fuhyo_entry)
    return TaskRow(task, True, name, [i for i in items if i.differs] if differing_only else items)


def _name_persons(access, tasks: list[RegisterDiscrepancy]) -> None:
    access.show(t.resident for t in tasks if t.resident is not None and access.may_see(t.resident))
    entries = [t.fuhyo_entry_id for t in tasks if t.resident is None and t.fuhyo_entry is not None]
    if entries:
        access.conditions["fuhyo_entry_ids"] = entries


@personal_data_view(
    VIEW_PERMISSION, subject_kind="resident", action="discrepancies.discrepancy_list", label="住民票と附票の不一致"
)
def discrepancy_list(request: HttpRequest, access) -> HttpResponse:
    state = request.GET.get("state", RegisterDiscrepancy.State.OPEN)
    if state not in RegisterDiscrepancy.State.values:
        state = RegisterDiscrepancy.State.OPEN
    access.conditions = {"state": state}
    tasks = list(
        RegisterDiscrepancy.objects.filter(state=state)
        .select_related("resident", "fuhyo_entry__koseki", "resolved_by")
        .order_by("-found_on", "id")[:PAGE_SIZE]
    )
    _name_persons(access, tasks)
    open_count = RegisterDiscrepancy.objects.filter(state=RegisterDiscrepancy.State.OPEN).count()
    return render(
        request,
        "registry/discrepancy_list.html",
        {
            "rows": [_row(access, t, differing_only=True) for t in tasks],
            "state": state,
            "states": RegisterDiscrepancy.State.choices,
            "open_count": open_count,
            "page_size": PAGE_SIZE,
        },
    )


@personal_data_view(
    VIEW_PERMISSION,
    subject_kind="resident",
    action="discrepancies.discrepancy_detail",
    label="住民票と附票の不一致の詳細",
)
@require_http_methods(["GET", "POST"])
def discrepancy_detail(request: HttpRequest, access, discrepancy_id: int) -> HttpResponse:
    task = get_object_or_404(
        RegisterDiscrepancy.objects.select_related("resident", "fuhyo_entry__koseki", "resolved_by"),
        pk=discrepancy_id,
    )
    access.conditions = {"discrepancy_id": task.pk}
    if task.resident is not None:
        access.open(task.resident)
    if task.fuhyo_entry is not None and not access.may_see(task.fuhyo_entry):
        raise RestrictedRecord(task.fuhyo_entry)
    if task.resident is None and task.fuhyo_entry is not None:
        access.conditions["fuhyo_entry_ids"] = [task.fuhyo_entry_id]
    may_resolve = request.user.has_perm(RESOLVE_PERMISSION) and task.state == RegisterDiscrepancy.State.OPEN
    form = ResolveForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        access.conditions["action"] = "resolve"
        if not may_resolve:
            form.add_error(None, "この不一致を処理する権限がないか、既に処理済です。")
            status = 400
        elif form.is_valid():
            try:
                resolve(task, actor=request.user, note=form.cleaned_data["note"])
            except AlreadyResolved:
                form.add_error(None, "ほかの職員または夜間の照合が先に処理しました。")
                status = 409
            else:
                messages.success(request, f"不一致 #{task.pk} を処理済にしました。")
                return redirect("registry:discrepancies")
        else:
            status = 400
    return render(
        request,
        "registry/discrepancy_detail.html",
        {"row": _row(access, task, differing_only=False), "form": form, "may_resolve": may_resolve},
        status=status,
    )
