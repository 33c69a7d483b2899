"""閲覧制限・個別許可: the supervisor's screens over audit.restrictions.

The supervisor must see whom they restrict: the permission `audit.manage_restriction` is enough to see a restricted
person's name on these screens (and only here), so the gate's `access.show()` names every person displayed — never
`access.open()`, which would answer 404 to a supervisor without a grant. Every action is a POST with CSRF, goes
through a 確認 page and a one-time token (common.confirm.OneStepFlow), and calls the service (which writes the
permission event into the chain).
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts import approvals
from common.confirm import OneStepFlow
from registry.models import UsedSubmissionToken

from .. import restrictions as service
from .. import selectors
from ..forms import GrantForm, LiftForm, RestrictForm, RevokeForm, record_label
from ..gate import personal_data_view
from ..models import AccessGrant, AccessRestriction

MANAGE = "audit.manage_restriction"


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


class _Action(OneStepFlow):
    token_model = UsedSubmissionToken


class _OnRestriction(_Action):
    """An action on one restriction (解除, 個別許可の申請): the person is named in the access log; a lifted restriction
    takes no action (`when_lifted` says so)."""

    when_lifted = ""

    def load(self) -> None:
        self.restriction = get_object_or_404(
            AccessRestriction.objects.select_related("resident", "fuhyo_entry"), pk=self.kwargs["restriction_id"]
        )
        self.person = _person_of(self.restriction)
        _show_person(self.access, self.person)

    def context(self) -> dict:
        return {"restriction": self.restriction, "person": self.person}

    def blocked(self) -> str | None:
        return self.when_lifted if self.restriction.lifted_at is not None else None

    def return_url(self) -> str:
        return reverse("audit:restriction", args=[self.restriction.pk])


class RestrictFlow(_Action):
    purpose = "audit:restrict"
    form_template = "audit/restrict_form.html"
    confirm_template = "audit/restrict_confirm.html"

    def build_form(self, data=None):
        if data is None:
            return RestrictForm(
                initial={"starts_on": timezone.localdate(), "person": self.request.GET.get("person", "")}
            )
        return RestrictForm(data)

    def opened(self, form) -> None:
        self.person = form.cleaned_data["person"]
        _show_person(self.access, self.person)

    def confirm_context(self, form) -> dict:
        return {"person": self.person, "data": form.cleaned_data}

    def execute(self, form) -> AccessRestriction:
        main = self.person.main
        is_resident = main._meta.model_name == "resident"
        return service.restrict(
            actor=self.request.user,
            kind=form.cleaned_data["kind"],
            reason=form.cleaned_data["reason"],
            starts_on=form.cleaned_data["starts_on"],
            ends_on=form.cleaned_data["ends_on"],
            resident=main if is_resident else None,
            fuhyo_entry=None if is_resident else main,
            request=self.request,
        )

    def outcome(self, result) -> tuple[str, str]:
        return reverse("audit:restriction", args=[result.pk]), f"閲覧制限 #{result.pk} を設定しました。"

    def return_url(self) -> str:
        return reverse("audit:restrictions")


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.restrict", label="閲覧制限の設定")
@require_http_methods(["GET", "POST"])
def restrict(request: HttpRequest, access) -> HttpResponse:
    """閲覧制限の設定: by 住民票ID or 住民票コード; every 住民票 and 附票 row of the person is restricted at once."""
    return RestrictFlow(request, access).handle()


class LiftFlow(_OnRestriction):
    purpose = "audit:lift"
    form_template = "audit/lift_form.html"
    confirm_template = "audit/lift_confirm.html"
    when_lifted = "この閲覧制限はすでに解除されています。"

    def build_form(self, data=None):
        return LiftForm(data)

    def execute(self, form) -> AccessRestriction:
        service.lift(
            self.restriction, actor=self.request.user, reason=form.cleaned_data["reason"], request=self.request
        )
        return self.restriction

    def done(self, result) -> str:
        return f"閲覧制限 #{result.pk} を解除しました。"


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.lift", label="閲覧制限の解除")
@require_http_methods(["GET", "POST"])
def lift(request: HttpRequest, access, restriction_id: int) -> HttpResponse:
    """閲覧制限の解除 (with a reason). The flag stays while another restriction of the person is active."""
    return LiftFlow(request, access, restriction_id=restriction_id).handle()


class GrantFlow(_OnRestriction):
    purpose = "audit:grant"
    form_template = "audit/grant_form.html"
    confirm_template = "audit/grant_confirm.html"
    when_lifted = "解除済みの閲覧制限には許可を付与できません。"

    def build_form(self, data=None):
        return GrantForm(data, actor=self.request.user, records=self.person.records())

    def confirm_context(self, form) -> dict:
        record = form.chosen_record()
        return {
            "record": record,
            "record_label": record_label(record),
            "expires_at": timezone.localtime(form.expires_at()),
        }

    def execute(self, form):
        record = form.chosen_record()
        is_resident = record._meta.model_name == "resident"
        return approvals.request_grant(
            actor=self.request.user,
            user=form.cleaned_data["user"],
            reason=form.cleaned_data["reason"],
            expires_at=form.expires_at(),
            resident=record if is_resident else None,
            fuhyo_entry=None if is_resident else record,
            restriction_id=self.restriction.pk,
            request=self.request,
        )

    def done(self, result) -> str:
        return f"個別許可を申請しました（申請 #{result.pk}）。別の監督者が承認すると有効になります。"


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.grant", label="個別許可の申請")
@require_http_methods(["GET", "POST"])
def grant(request: HttpRequest, access, restriction_id: int) -> HttpResponse:
    """個別許可の申請: one clerk, one record of the restricted person, a reason, an expiry within 90 days. The grant
    takes effect only when another supervisor approves the request (accounts.approvals: two people for a grant)."""
    return GrantFlow(request, access, restriction_id=restriction_id).handle()


class RevokeFlow(_Action):
    purpose = "audit:revoke"
    form_template = "audit/revoke_form.html"
    confirm_template = "audit/revoke_confirm.html"

    def load(self) -> None:
        self.grant = get_object_or_404(
            AccessGrant.objects.select_related("user", "resident", "fuhyo_entry", "granted_by"),
            pk=self.kwargs["grant_id"],
        )
        if self.grant.resident is not None:
            self.access.show(self.grant.resident)
        else:
            self.access.conditions["fuhyo_entry_ids"] = [self.grant.fuhyo_entry_id]
        self.state = selectors.grant_state(self.grant)

    def context(self) -> dict:
        record = self.grant.resident or self.grant.fuhyo_entry
        return {
            "grant": self.grant,
            "record": record,
            "record_label": record_label(record),
            "state_label": selectors.GrantState.LABELS[self.state],
        }

    def blocked(self) -> str | None:
        if self.state == selectors.GrantState.ACTIVE:
            return None
        return f"この個別許可は{selectors.GrantState.LABELS[self.state]}です。取り消す必要はありません。"

    def build_form(self, data=None):
        return RevokeForm(data)

    def execute(self, form) -> AccessGrant:
        service.revoke(self.grant, actor=self.request.user, reason=form.cleaned_data["reason"], request=self.request)
        return self.grant

    def done(self, result) -> str:
        return f"個別許可 #{result.pk} を取り消しました。"

    def return_url(self) -> str:
        return reverse("audit:grants")


@personal_data_view(MANAGE, subject_kind="person", action="restrictions.revoke", label="個別許可の取消")
@require_http_methods(["GET", "POST"])
def revoke(request: HttpRequest, access, grant_id: int) -> HttpResponse:
    """個別許可の取消 (with a reason): the guardian permission goes at once."""
    return RevokeFlow(request, access, grant_id=grant_id).handle()
