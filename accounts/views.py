"""Account screens: the user's own (アカウント, パスワード変更, 二段階認証 and its verification) and the supervisor's
職員アカウント management (list, create, and one action at a time through a 確認 page). Thin: the work is in
services, totp and lockout."""

import functools

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from audit.gate import ActionName
from audit.log import record_access, record_account_event
from audit.models import AuditLogEntry
from common.errors import ServiceError
from common.roles import ROLES_BY_KEY, SUPERVISOR

from . import approvals, lockout, policy, services, sessions, totp
from .forms import LockForm, PasswordResetCompleteForm, RoleForm, TokenForm, UserCreateForm

MANAGE_USERS = "accounts.manage_users"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


# --- The user's own pages -------------------------------------------------------------------------------------


@login_required
def account_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/home.html",
        {
            "device": totp.confirmed_device(request.user),
            "backup_left": totp.backup_codes_left(request.user),
            "totp_required": policy.totp_required(request.user),
            "can_manage": request.user.has_perm(MANAGE_USERS),
            "idle_minutes": sessions.idle_timeout() // 60,
            "max_hours": sessions.max_age() // 3600,
        },
    )


class PasswordChange(PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["forced"] = policy.must_change_password(self.request.user)
        return context

    def form_valid(self, form):
        forced = policy.must_change_password(self.request.user)
        old_key = self.request.session.session_key
        response = super().form_valid(form)  # keeps this session signed in (update_session_auth_hash: a new id)
        sessions.follow_rotation(self.request, old_key)
        services.password_changed(self.request.user, request=self.request, forced=forced)
        messages.success(self.request, "パスワードを変更しました。")
        return response


password_change = login_required(PasswordChange.as_view())


@require_http_methods(["GET", "POST"])
def password_reset_complete(request: HttpRequest) -> HttpResponse:
    """パスワードの再設定（承認済み）: the holder of a reset that two supervisors approved chooses a new password,
    proving who they are with a code of their own authenticator. Public, like the login page; every answer to a
    refused attempt is the same (unknown ID, no approved reset, wrong code) and is logged."""
    form = PasswordResetCompleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            approvals.complete_password_reset(
                username, form.cleaned_data["token"], form.cleaned_data["new_password1"], request=request
            )
        except approvals.ResetRefused:
            approvals.log_refused_completion(username, request)
            form.add_error(None, "職員ID・確認コードを確かめてください。承認済みの再設定がないか、コードが違います。")
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        else:
            messages.success(request, "新しいパスワードを設定しました。新しいパスワードでログインしてください。")
            return redirect("login")
    return render(request, "accounts/password_reset.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """二段階認証: enrol an authenticator app (QR code or the secret typed by hand), confirmed by a first code."""
    user = request.user
    device = totp.confirmed_device(user)
    if device is not None:
        return render(
            request, "accounts/otp_status.html", {"device": device, "backup_left": totp.backup_codes_left(user)}
        )
    pending = totp.pending_device(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = totp.confirm(pending, form.cleaned_data["token"])
        if codes is not None:
            pending.refresh_from_db()
            otp_login(request, pending)
            record_account_event("otp_enrolled", user=user, request=request, details={"backup_codes": len(codes)})
            return render(request, "accounts/otp_enrolled.html", {"codes": codes, "next": _next_url(request)})
        record_account_event("otp_enrol_failed", user=user, request=request, outcome=AuditLogEntry.Outcome.DENIED)
        form.add_error("token", "コードが正しくありません。認証アプリの現在のコードを入力してください。")
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "qr_svg": totp.qr_svg(pending),
            "secret": totp.secret_base32(pending),
            "required": policy.totp_required(user),
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step of the login for a user with an authenticator: a current code (or a backup code)."""
    user = request.user
    if totp.confirmed_device(user) is None and not totp.backup_codes_left(user):
        return redirect("accounts:otp")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = totp.verify(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            kind = "backup" if device.__class__.__name__ == "StaticDevice" else "totp"
            record_account_event("otp_verified", user=user, request=request, details={"device": kind})
            return HttpResponseRedirect(_next_url(request))
        record_account_event("otp_failed", user=user, request=request, outcome=AuditLogEntry.Outcome.DENIED)
        form.add_error("token", "コードが正しくありません。時間をおいてもう一度入力してください。")
    return render(
        request,
        "accounts/otp_verify.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
    )


# --- The supervisor's management of staff accounts ------------------------------------------------------------


def manager_view(action: str, label: str):
    """Signed in (anonymous: to the login page) and holding accounts.manage_users: otherwise 403, with one `denied`
    access-log entry under `action` (who tried which staff page), as the gate of the personal-data views writes."""
    name = ActionName(action, label)

    def decorate(view):
        @functools.wraps(view)
        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(MANAGE_USERS):
                record_access(
                    request,
                    action,
                    AuditLogEntry.Outcome.DENIED,
                    subject_kind="staff_account",
                    subject_ids=[kwargs["user_id"]] if isinstance(kwargs.get("user_id"), int) else [],
                    conditions={"missing_permission": [MANAGE_USERS]},
                )
                raise PermissionDenied("職員アカウントを管理する権限がありません。")
            return view(request, *args, **kwargs)

        checked.action_name = name
        return login_required(checked)

    return decorate


@manager_view("views.user_list", label="職員アカウント")
def user_list(request: HttpRequest) -> HttpResponse:
    users = get_user_model().objects.order_by("username").prefetch_related("groups")
    pending = set(services.AccountState.objects.filter(must_change_password=True).values_list("user_id", flat=True))
    with_device = set(totp.TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    locks = lockout.current_locks()
    locked = {lock.username for lock in locks}
    rows = [
        {
            "user": user,
            "role": services.role_of(user),
            "must_change": user.pk in pending,
            "totp": user.pk in with_device,
            "locked": user.username in locked,
        }
        for user in users
    ]
    return render(request, "accounts/user_list.html", {"rows": rows, "locks": locks})


@manager_view("views.user_create", label="職員アカウントの作成")
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    step = request.POST.get("step", "")
    if request.method == "POST" and form.is_valid() and not request.POST.get("back"):
        if step != "commit":
            return render(request, "accounts/user_create_confirm.html", {"form": form, "role": _role(form)})
        try:
            created = services.create_user(
                request.user,
                username=form.cleaned_data["username"],
                last_name=form.cleaned_data["last_name"],
                first_name=form.cleaned_data["first_name"],
                role_key=form.cleaned_data["role"],
                request=request,
            )
        except services.ManageError as exc:
            form.add_error(None, str(exc))
        else:
            return render(
                request,
                "accounts/password_shown.html",
                {"target": created.user, "password": created.initial_password, "created": True},
            )
    return render(request, "accounts/user_create.html", {"form": form})


def _role(form):
    return ROLES_BY_KEY.get(form.cleaned_data.get("role", ""))


@manager_view("views.user_detail", label="職員アカウントの詳細")
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    target = get_object_or_404(get_user_model(), pk=user_id)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "target": target,
            "role": services.role_of(target),
            "must_change": policy.must_change_password(target),
            "device": totp.confirmed_device(target),
            "lock": lockout.lock_of(target.username),
            "session_count": sessions.active_count(target),
            "is_self": target.pk == request.user.pk,
        },
    )


ACTIONS = {
    "disable": ("利用停止", "このアカウントを利用停止にします。ログイン中のセッションはすべて直ちに終了します。"),
    "enable": ("利用再開", "このアカウントを再び利用できるようにします。"),
    "reset_password": (
        "パスワードの再設定",
        "新しい初期パスワードを発行します（画面に一度だけ表示）。本人は次のログインで変更が必要です。"
        "ログイン中のセッションは終了します。監督者のアカウントでは申請になり、別の監督者が承認すると今の"
        "パスワードが使えなくなって、本人が自分の認証アプリのコードで新しいパスワードを決めます（誰にも表示されません）。",
    ),
    "reset_totp": (
        "二段階認証の再設定",
        "認証アプリと予備コードの登録を削除します。本人は次のログインで登録し直します。"
        "他の監督者のアカウントでは申請になり、別の監督者が承認したときに削除します。",
    ),
    "role": ("役割の変更", "職員の役割（グループ）を変更します。"),
}


@manager_view("views.user_action", label="職員アカウントの操作")
@require_http_methods(["GET", "POST"])
def user_action(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("no such action")
    target = get_object_or_404(get_user_model(), pk=user_id)
    title, explanation = ACTIONS[action]
    form = RoleForm(request.POST or None, initial={"role": getattr(services.role_of(target), "key", "")})
    step = request.POST.get("step", "") if request.method == "POST" else ""
    context = {"target": target, "action": action, "title": title, "explanation": explanation, "form": form}
    if action == "role":
        if request.method == "GET" or request.POST.get("back") or not form.is_valid():
            return render(request, "accounts/role_form.html", context)
        context["role"] = _role(form)
        if step != "commit":
            return render(request, "accounts/action_confirm.html", context)
    elif step != "commit":
        return render(request, "accounts/action_confirm.html", context)
    try:
        return _perform(request, target, action, form)
    except services.ManageError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:user_detail", user_id=target.pk)


def _perform(request: HttpRequest, target, action: str, form: RoleForm) -> HttpResponse:
    actor = request.user
    if action == "disable":
        ended = services.set_active(actor, target, False, request=request)
        messages.success(request, f"利用停止にしました（終了したセッション: {ended}）。")
    elif action == "enable":
        services.set_active(actor, target, True, request=request)
        messages.success(request, "利用を再開しました。")
    elif action in ("reset_password", "reset_totp") and approvals.needs_second_supervisor(actor, target):
        # Another supervisor's credentials: a request that a second supervisor approves; no secret is shown.
        try:
            approval = approvals.request_reset(action, actor=actor, target=target, request=request)
        except ServiceError as exc:
            raise services.ManageError(" ".join(exc.messages)) from None
        messages.success(
            request,
            f"{approval.get_kind_display()}を申請しました（申請 #{approval.pk}）。"
            "別の監督者が承認すると効力を持ちます。",
        )
    elif action == "reset_password":
        password = services.reset_password(actor, target, request=request)
        return render(request, "accounts/password_shown.html", {"target": target, "password": password})
    elif action == "reset_totp":
        services.reset_totp(actor, target, request=request)
        messages.success(request, "二段階認証の登録を削除しました。")
    elif action == "role" and form.cleaned_data["role"] == SUPERVISOR.key and services.role_of(target) != SUPERVISOR:
        try:
            approval = approvals.request_supervisor_role(actor=actor, target=target, request=request)
        except ServiceError as exc:
            raise services.ManageError(" ".join(exc.messages)) from None
        messages.success(
            request, f"監督者への役割変更を申請しました（申請 #{approval.pk}）。別の監督者が承認すると変わります。"
        )
    elif action == "role":
        services.set_role(actor, target, form.cleaned_data["role"], request=request)
        messages.success(request, "役割を変更しました。")
    return redirect("accounts:user_detail", user_id=target.pk)


@manager_view("views.lock_lift", label="ロックの解除")
@require_http_methods(["GET", "POST"])
def lock_lift(request: HttpRequest) -> HttpResponse:
    """Lift the lock of one 職員ID (?username= on the confirm page)."""
    form = LockForm(request.POST or request.GET or None)
    if not form.is_valid():
        return redirect("accounts:users")
    username = form.cleaned_data["username"]
    lock = lockout.lock_of(username)
    if request.method == "POST" and request.POST.get("step") == "commit":
        services.lift_lockout(request.user, username, request=request)
        messages.success(request, f"職員ID「{username}」のロックを解除しました。")
        return redirect("accounts:users")
    return render(request, "accounts/lock_confirm.html", {"form": form, "username": username, "lock": lock})
