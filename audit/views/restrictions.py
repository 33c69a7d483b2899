"""閲覧制限・個別許可: the supervisor's screens over audit.restrictions.

The supervisor must see whom they restrict: the permission `audit.manage_restriction` is enough to see a restricted
person's name on these screens (and only here), so the gate's `access.show()` names every person displayed — never
`access.open()`, which would answer 404 to a supervisor without a grant. Every action is a POST with CSRF, goes
through a 確認 page and a one-time token, and calls the service (which writes the permission event into the chain).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts import approvals
from registry.models import Resident

from .. import restrictions as service
from .. import selectors
from ..forms import GrantForm, LiftForm, RestrictForm, RevokeForm, record_label
from ..gate import personal_data_view
from ..models import AccessGrant, AccessRestriction
from . import once

MANAGE = "audit.manage_restriction"
ALREADY_DONE = "この操作はすでに処理されています（二重送信）。結果を一覧で確かめてください。"


def _show_person(access, person: selectors.PersonRecords) -> None:
    access.show(person.residents)
    if person.fuhyo_entries:
        access.conditions.setdefault("fuhyo_entry_ids", []).extend(e.pk for e in person.fuhyo_entries)


def _person_of(restriction: AccessRestriction) -> selectors.PersonRecords:
    if restriction.juminhyo_code:
        person = selectors.find_person(juminhyo_code=restriction.juminhyo_code)
        if person:
            return person
    return selectors.PersonRecords(
        residents=(restriction.resident,) if restriction.resident else (),
        fuhyo_entries=(restriction.fuhyo_entry,) if restriction.fuhyo_entry else (),
    )


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _step(request: HttpRequest) -> str:
    if "back" in request.POST:
        return "back"
    return request.POST.get("step", "confirm")


# --- Lists -----------------------------------------------------------------------------------------------------


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.restriction_list", label="閲覧制限")
def restriction_list(request: HttpRequest, access) -> HttpResponse:
    include_lifted = request.GET.get("lifted") == "1"
    access.conditions = {"include_lifted": include_lifted}
    rows = list(selectors.restrictions(include_lifted=include_lifted)[: selectors.RESTRICTION_PAGE_LIMIT])
    for restriction in rows:
        access.show(restriction.resident)
        if restriction.resident is None and restriction.fuhyo_entry is not None:
            access.conditions.setdefault("fuhyo_entry_ids", []).append(restriction.fuhyo_entry.pk)
    return render(
        request,
        "audit/restriction_list.html",
        {"rows": rows, "include_lifted": include_lifted, "limit": selectors.RESTRICTION_PAGE_LIMIT},
    )


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.restriction_detail", label="閲覧制限の詳細")
def restriction_detail(request: HttpRequest, access, restriction_id: int) -> HttpResponse:
    restriction = get_object_or_404(
        AccessRestriction.objects.select_related("resident", "fuhyo_entry", "created_by", "lifted_by"),
        pk=restriction_id,
    )
    person = _person_of(restriction)
    _show_person(access, person)
    grants = _grant_rows(selectors.grants(juminhyo_code=person.juminhyo_code) if person.juminhyo_code else [])
    return render(
        request,
        "audit/restriction_detail.html",
        {
            "restriction": restriction,
            "person": person,
            "grants": grants,
            "others": selectors.restrictions()
            .filter(juminhyo_code=restriction.juminhyo_code)
            .exclude(pk=restriction.pk)
            if restriction.juminhyo_code
            else [],
        },
    )


def _grant_rows(grants) -> list[dict]:
    now = timezone.now()
    rows = []
    for access_grant in grants:
        state = selectors.grant_state(access_grant, now)
        rows.append(
            {
                "grant": access_grant,
                "record": access_grant.resident or access_grant.fuhyo_entry,
                "record_label": record_label(access_grant.resident or access_grant.fuhyo_entry),
                "state": state,
                "state_label": selectors.GrantState.LABELS[state],
            }
        )
    return rows


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.grant_list", label="個別許可")
def grant_list(request: HttpRequest, access) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in selectors.GrantState.LABELS:
        state = ""
    access.conditions = {"state": state} if state else {}
    rows = _grant_rows(selectors.grants(state=state)[: selectors.RESTRICTION_PAGE_LIMIT])
    for row in rows:
        if row["grant"].resident is not None:
            access.show(row["grant"].resident)
        else:
            access.conditions.setdefault("fuhyo_entry_ids", []).append(row["grant"].fuhyo_entry_id)
    return render(
        request,
        "audit/grant_list.html",
        {
            "rows": rows,
            "state": state,
            "states": selectors.GrantState.LABELS.items(),
            "limit": selectors.RESTRICTION_PAGE_LIMIT,
        },
    )


# --- Actions: form → 確認 → 記録 ---------------------------------------------------------------------------------


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.restrict", label="閲覧制限の設定")
@require_http_methods(["GET", "POST"])
def restrict(request: HttpRequest, access) -> HttpResponse:
    """閲覧制限の設定: by 住民票ID or 住民票コード; every 住民票 and 附票 row of the person is restricted at once."""
    if request.method == "GET":
        form = RestrictForm(initial={"starts_on": timezone.localdate(), "person": request.GET.get("person", "")})
        return render(request, "audit/restrict_form.html", {"form": form})
    form = RestrictForm(request.POST)
    step = _step(request)
    if step == "back" or not form.is_valid():
        return render(request, "audit/restrict_form.html", {"form": form})
    person: selectors.PersonRecords = form.cleaned_data["person"]
    _show_person(access, person)
    if step != "commit":
        return render(
            request,
            "audit/restrict_confirm.html",
            {"form": form, "person": person, "token": once.issue(request), "data": form.cleaned_data},
        )
    if not once.consume(request, request.POST.get("token", "")):
        messages.warning(request, ALREADY_DONE)
        return redirect("audit:restrictions")
    main = person.main
    try:
        restriction = service.restrict(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            reason=form.cleaned_data["reason"],
            starts_on=form.cleaned_data["starts_on"],
            ends_on=form.cleaned_data["ends_on"],
            resident=main if isinstance(main, Resident) else None,
            fuhyo_entry=None if isinstance(main, Resident) else main,
            request=request,
        )
    except ValidationError as exc:
        _apply_errors(form, exc)
        return render(request, "audit/restrict_form.html", {"form": form})
    messages.success(request, f"閲覧制限 #{restriction.pk} を設定しました。")
    return redirect("audit:restriction", restriction_id=restriction.pk)


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.lift", label="閲覧制限の解除")
@require_http_methods(["GET", "POST"])
def lift(request: HttpRequest, access, restriction_id: int) -> HttpResponse:
    """閲覧制限の解除 (with a reason). The flag stays while another restriction of the person is active."""
    restriction = get_object_or_404(
        AccessRestriction.objects.select_related("resident", "fuhyo_entry"), pk=restriction_id
    )
    person = _person_of(restriction)
    _show_person(access, person)
    context = {"restriction": restriction, "person": person}
    form = LiftForm(request.POST if request.method == "POST" else None)
    step = _step(request) if request.method == "POST" else "form"
    if restriction.lifted_at is not None:
        context["blocked"] = "この閲覧制限はすでに解除されています。"
        return render(request, "audit/lift_form.html", {**context, "form": form})
    if step in ("form", "back") or not form.is_valid():
        return render(request, "audit/lift_form.html", {**context, "form": form})
    if step != "commit":
        return render(request, "audit/lift_confirm.html", {**context, "form": form, "token": once.issue(request)})
    if not once.consume(request, request.POST.get("token", "")):
        messages.warning(request, ALREADY_DONE)
        return redirect("audit:restriction", restriction_id=restriction.pk)
    try:
        service.lift(restriction, actor=request.user, reason=form.cleaned_data["reason"], request=request)
    except ValidationError as exc:
        _apply_errors(form, exc)
        return render(request, "audit/lift_form.html", {**context, "form": form})
    messages.success(request, f"閲覧制限 #{restriction.pk} を解除しました。")
    return redirect("audit:restriction", restriction_id=restriction.pk)


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.grant", label="個別許可の申請")
@require_http_methods(["GET", "POST"])
def grant(request: HttpRequest, access, restriction_id: int) -> HttpResponse:
    """個別許可の申請: one clerk, one record of the restricted person, a reason, an expiry within 90 days. The grant
    takes effect only when another supervisor approves the request (accounts.approvals: two people for a grant)."""
    restriction = get_object_or_404(
        AccessRestriction.objects.select_related("resident", "fuhyo_entry"), pk=restriction_id
    )
    person = _person_of(restriction)
    _show_person(access, person)
    context = {"restriction": restriction, "person": person}
    data = request.POST if request.method == "POST" else None
    form = GrantForm(data, actor=request.user, records=person.records())
    step = _step(request) if request.method == "POST" else "form"
    if restriction.lifted_at is not None:
        context["blocked"] = "解除済みの閲覧制限には許可を付与できません。"
        return render(request, "audit/grant_form.html", {**context, "form": form})
    if step in ("form", "back") or not form.is_valid():
        return render(request, "audit/grant_form.html", {**context, "form": form})
    record = form.chosen_record()
    if step != "commit":
        return render(
            request,
            "audit/grant_confirm.html",
            {
                **context,
                "form": form,
                "record": record,
                "record_label": record_label(record),
                "expires_at": timezone.localtime(form.expires_at()),
                "token": once.issue(request),
            },
        )
    if not once.consume(request, request.POST.get("token", "")):
        messages.warning(request, ALREADY_DONE)
        return redirect("audit:restriction", restriction_id=restriction.pk)
    is_resident = record._meta.model_name == "resident"
    try:
        approval = approvals.request_grant(
            actor=request.user,
            user=form.cleaned_data["user"],
            reason=form.cleaned_data["reason"],
            expires_at=form.expires_at(),
            resident=record if is_resident else None,
            fuhyo_entry=None if is_resident else record,
            restriction_id=restriction.pk,
            request=request,
        )
    except ValidationError as exc:
        _apply_errors(form, exc)
        return render(request, "audit/grant_form.html", {**context, "form": form})
    messages.success(request, f"個別許可を申請しました（申請 #{approval.pk}）。別の監督者が承認すると有効になります。")
    return redirect("audit:restriction", restriction_id=restriction.pk)


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.revoke", label="個別許可の取消")
@require_http_methods(["GET", "POST"])
def revoke(request: HttpRequest, access, grant_id: int) -> HttpResponse:
    """個別許可の取消 (with a reason): the guardian permission goes at once."""
    access_grant = get_object_or_404(
        AccessGrant.objects.select_related("user", "resident", "fuhyo_entry", "granted_by"), pk=grant_id
    )
    record = access_grant.resident or access_grant.fuhyo_entry
    if access_grant.resident is not None:
        access.show(access_grant.resident)
    else:
        access.conditions["fuhyo_entry_ids"] = [access_grant.fuhyo_entry_id]
    state = selectors.grant_state(access_grant)
    context = {
        "grant": access_grant,
        "record": record,
        "record_label": record_label(record),
        "state_label": selectors.GrantState.LABELS[state],
    }
    form = RevokeForm(request.POST if request.method == "POST" else None)
    step = _step(request) if request.method == "POST" else "form"
    if state != selectors.GrantState.ACTIVE:
        context["blocked"] = f"この個別許可は{selectors.GrantState.LABELS[state]}です。取り消す必要はありません。"
        return render(request, "audit/revoke_form.html", {**context, "form": form})
    if step in ("form", "back") or not form.is_valid():
        return render(request, "audit/revoke_form.html", {**context, "form": form})
    if step != "commit":
        return render(request, "audit/revoke_confirm.html", {**context, "form": form, "token": once.issue(request)})
    if not once.consume(request, request.POST.get("token", "")):
        messages.warning(request, ALREADY_DONE)
        return redirect("audit:grants")
    service.revoke(access_grant, actor=request.user, reason=form.cleaned_data["reason"], request=request)
    messages.success(request, f"個別許可 #{access_grant.pk} を取り消しました。")
    return redirect("audit:grants")
