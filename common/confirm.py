"""The form → 確認 → 記録 flow of every entry screen (異動, 戸籍届出).

1. **Form** (GET): the records concerned are opened through the gate; a fresh entry key (common.idempotency) goes
   into the form. A GET never locks (a link opened from anywhere must not lock a record in the clerk's name): it
   only shows who is editing when another clerk holds a lock.
2. **確認** (POST step=confirm): the records are locked (排他制御: the first POST takes the lock), the input is
   validated; then the service itself runs inside a transaction that is
   rolled back, while every save of a register row is captured (before and after, per record and item). What the
   clerk sees is what the service did, not a guess. The 確認 screen carries one signed token: the entry key, the
   input and the fingerprint of what was shown.
3. **記録** (POST step=record): in one transaction, the entry key is consumed (a second use of the same input is
   refused), the locks are renewed, the service runs again under the same capture, and — should anything differ from
   what was confirmed (it cannot while the locks hold, but a lock may have expired) — the transaction is rolled back
   and a fresh 確認 screen is shown. Otherwise the locks are released with the commit and the clerk is sent to the
   result with a message.

A refusal by the service (ServiceError) shows its Japanese messages next to the fields, nothing changed. 戻る goes
back to the form with the input; 取消 releases the locks.

Screens subclass `EntryFlow` and say what they load, which form, which locks, which service call, where the result
is; the register apps supply the lock functions and the table of used keys.

A screen whose 確認 only repeats the input — a supervisor's action (閲覧制限, 個別許可, 書き出し, 分析事項の確認, 承認),
the 処理 of a notice, its 再送 — subclasses `OneStepFlow`: the same steps and the same one-time entry key, without
locks or capture; the key is consumed before the service runs (which keeps what a refusing service logs), and a
second use is told on the page the screen returns to. Both are a `ConfirmFlow`.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.signals import post_save, pre_save
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import capfirst

from . import idempotency
from .wareki import to_wareki_with_seireki

ASSIGNED_ON_RECORD = "（記録時に付番）"


# --- Capturing what a service changes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisplaySpec:
    """How the 確認 screen shows one model's rows: which items, under which title, nested under which parent."""

    model: type[models.Model]
    kind: str  # 「住民票」「世帯」「異動履歴」…
    fields: tuple[str, ...]
    title: Callable[[Any], str] = str
    parent: Callable[[Any], tuple[type[models.Model], Any] | None] | None = None
    assigned: tuple[str, ...] = ()  # values the service assigns (住民票コード, 世帯番号): differ between runs
    subject_kind: str = ""  # a person record: masked unless the clerk may see it, named in the access log
    action: Callable[[Any | None, Any], str] | None = None  # 「新規」「変更」 unless said otherwise


@dataclass
class ItemDiff:
    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class RecordDiff:
    kind: str
    title: str
    action: str
    items: list[ItemDiff] = field(default_factory=list)
    children: list["RecordDiff"] = field(default_factory=list)
    masked: bool = False
    is_new: bool = False

    def as_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "action": self.action,
            "masked": self.masked,
            "items": [[i.label, i.before, i.after] for i in self.items],
            "children": [c.as_data() for c in self.children],
        }


@dataclass
class Preview:
    """What a service run changed, per record and item; `shown` names the existing persons on it."""

    records: list[RecordDiff]
    shown: dict[str, list[int]] = field(default_factory=dict)
    created: dict[str, list[int]] = field(default_factory=dict)

    def fingerprint(self) -> str:
        canonical = json.dumps([r.as_data() for r in self.records], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Capture:
    def __init__(self, specs: Iterable[DisplaySpec], may_see: Callable[[Any], bool], given: set[str]) -> None:
        self.specs = {spec.model: spec for spec in specs}
        self.may_see = may_see
        self.given = given
        self.before: dict[tuple[type[models.Model], Any], Any] = {}
        self.order: list[tuple[type[models.Model], Any]] = []

    def pre_save(self, sender: type[models.Model], instance: models.Model) -> None:
        if sender not in self.specs or instance._state.adding or instance.pk is None:
            return
        key = (sender, instance.pk)
        if key not in self.before:  # the first save in this run: the row as it was before the service touched it
            self.before[key] = sender._base_manager.filter(pk=instance.pk).first()
            self.order.append(key)

    def post_save(self, sender: type, instance: models.Model, created: bool) -> None:
        if created and sender in self.specs:
            key = (sender, instance.pk)
            if key not in self.before:
                self.before[key] = None
                self.order.append(key)

    # Building the diff runs inside the transaction, while the changed (or rolled-back-to-be) rows are readable.
    def build(self) -> Preview:
        afters = {key: key[0]._base_manager.get(pk=key[1]) for key in self.order}
        masks = self._assigned_values(afters)
        preview = Preview(records=[])
        built: dict[tuple[type, Any], RecordDiff] = {}
        visible: dict[tuple[type, Any], bool] = {}
        for key in self.order:
            record = self._record(key, self.before[key], afters[key], masks, visible)
            if record is None:
                continue
            built[key] = record
        for key in self.order:
            if key not in built:
                continue
            spec = self.specs[key[0]]
            parent_key = spec.parent(afters[key]) if spec.parent else None
            if parent_key is not None and parent_key[0] in self.specs:
                parent = built.get(parent_key)
                if parent is None:
                    parent_obj = parent_key[0]._base_manager.get(pk=parent_key[1])
                    parent = self._title_only(parent_key, parent_obj, masks, visible)
                    built[parent_key] = parent
                    preview.records.append(parent)
                if parent.masked:
                    continue
                parent.children.append(built[key])
            else:
                preview.records.append(built[key])
            self._name(preview, spec, key, built[key])
        return preview

    def _assigned_values(self, afters: dict) -> dict[str, str]:
        """Values the service drew in this run (a new 住民票コード, a new 世帯番号): they differ between the 確認 run
        and the 記録 run, so they are shown as 「記録時に付番」. A value is drawn when the clerk did not type it and no
        row that existed before the run holds it (a 届出 copies a person's existing code: that one is shown)."""
        created: dict[type, set] = {}
        for model, pk in self.order:
            if self.before[(model, pk)] is None:
                created.setdefault(model, set()).add(pk)
        candidates = set()
        for key in self.order:
            if self.before[key] is None:
                for name in self.specs[key[0]].assigned:
                    value = str(getattr(afters[key], name) or "")
                    if value and value not in self.given:
                        candidates.add((name, value))
        masks = {}
        for name, value in candidates:
            existed = any(
                spec.model._base_manager.filter(**{name: value}).exclude(pk__in=created.get(spec.model, ())).exists()
                for spec in self.specs.values()
                if name in spec.assigned
            )
            if not existed:
                masks[value] = ASSIGNED_ON_RECORD
        return masks

    def _name(self, preview: Preview, spec: DisplaySpec, key: tuple, record: RecordDiff) -> None:
        if spec.subject_kind and not record.masked:
            target = preview.created if record.is_new else preview.shown
            target.setdefault(spec.subject_kind, []).append(key[1])

    def _visible(self, key: tuple, obj: Any, is_new: bool, visible: dict) -> bool:
        if key not in visible:
            spec = self.specs[key[0]]
            visible[key] = not spec.subject_kind or self.may_see(obj)
        return visible[key]

    def _title_only(self, key: tuple, obj: Any, masks: dict, visible: dict) -> RecordDiff:
        spec = self.specs[key[0]]
        if not self._visible(key, obj, False, visible):
            return RecordDiff(kind=spec.kind, title="閲覧制限あり", action="", masked=True)
        return RecordDiff(kind=spec.kind, title=_mask(spec.title(obj), masks), action="")

    def _record(self, key: tuple, before: Any, after: Any, masks: dict, visible: dict) -> RecordDiff | None:
        spec = self.specs[key[0]]
        is_new = before is None
        if not self._visible(key, before if before is not None else after, is_new, visible):
            return RecordDiff(kind=spec.kind, title="閲覧制限あり（内容は表示しません）", action="変更", masked=True)
        items = []
        for name in spec.fields:
            label = str(capfirst(after._meta.get_field(name).verbose_name))
            new = _mask(self.display(after, name), masks)
            old = _mask(self.display(before, name), masks) if before is not None else ""
            if (is_new and new) or (not is_new and new != old):
                items.append(ItemDiff(label, old, new))
        if not is_new and not items:
            return None
        if spec.action is not None:
            action = spec.action(before, after)
        else:
            action = "新規" if is_new else "変更"
        return RecordDiff(
            kind=spec.kind, title=_mask(spec.title(after), masks), action=action, items=items, is_new=is_new
        )

    def display(self, obj: Any, name: str) -> str:
        f = obj._meta.get_field(name)
        if f.is_relation:
            related = getattr(obj, name)
            if related is None:
                return ""
            spec = self.specs.get(type(related))
            if spec is not None:
                return spec.title(related)
            return getattr(related, "full_name", None) or str(related)
        value = getattr(obj, name)
        if value is None or value == "":
            return ""
        if f.choices:
            return str(dict(f.flatchoices).get(value, value))
        if isinstance(f, models.DateTimeField):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        if isinstance(f, models.DateField):
            return to_wareki_with_seireki(value)
        if isinstance(f, models.BooleanField):
            return "はい" if value else "いいえ"
        if isinstance(f, models.JSONField):
            return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
        return str(value)


def _mask(text: str, masks: dict[str, str]) -> str:
    for raw, shown in masks.items():
        if raw in text:
            text = text.replace(raw, shown)
    return text


_active: ContextVar[_Capture | None] = ContextVar("confirm_capture", default=None)


def _on_pre_save(sender, instance, raw=False, **kwargs) -> None:
    capture = _active.get()
    if capture is not None and not raw:
        capture.pre_save(sender, instance)


def _on_post_save(sender, instance, created=False, raw=False, **kwargs) -> None:
    capture = _active.get()
    if capture is not None and not raw:
        capture.post_save(sender, instance, created)


# Capture only: these receivers record what was saved while a capture is active; they never change an outcome.
pre_save.connect(_on_pre_save, dispatch_uid="common.confirm.capture.pre_save")
post_save.connect(_on_post_save, dispatch_uid="common.confirm.capture.post_save")


class _Rollback(Exception):
    def __init__(self, preview: Preview) -> None:
        super().__init__("preview")
        self.preview = preview


def run_captured(
    run: Callable[[], Any],
    specs: Iterable[DisplaySpec],
    *,
    may_see: Callable[[Any], bool] = lambda obj: True,
    given: Iterable[str] = (),
    rollback: bool,
) -> tuple[Any, Preview]:
    """Run `run()` (a service call) in a transaction (a savepoint inside the caller's) and return its result and
    what it changed. With `rollback=True` nothing stays: that is the 確認 screen's preview. A ServiceError
    propagates (and nothing stays either)."""
    capture = _Capture(specs, may_see, {str(v) for v in given})
    token = _active.set(capture)
    try:
        with transaction.atomic():
            result = run()
            preview = capture.build()
            if rollback:
                raise _Rollback(preview)
    except _Rollback as done:
        return None, done.preview
    finally:
        _active.reset(token)
    return result, preview


# --- The flow ------------------------------------------------------------------------------------------------------


class ContentChanged(Exception):
    """記録 would change something other than what the 確認 screen showed."""


class ConfirmFlow:
    """One screen that records something once: form → 確認 → 記録 (the module docstring), without the edit locks
    and the captured preview unless a subclass adds them (EntryFlow). Instantiated per request by a gated view.

    The 確認 screen carries one signed token (common.idempotency): the entry key, the input, and the fingerprint of
    what was shown; 記録 reads the input from the token, never from the page, and consumes the entry key, so the
    same confirmation submitted twice (double click, back button, reload) records once."""

    purpose = ""  # names the screen in the token and in the table of used keys
    title = ""
    form_template = ""
    confirm_template = ""
    already_template = "registry/changes/already_recorded.html"
    locked_template = "registry/changes/locked.html"
    token_model: type[idempotency.UsedTokenBase]  # set by each screen
    lock_refused: tuple[type[Exception], ...] = ()
    record_step = "record"  # the value of `step` that records
    invalid_status = 200  # the status of the form shown again with errors

    def __init__(self, request: HttpRequest, access, **kwargs: Any) -> None:
        self.request = request
        self.access = access
        self.kwargs = kwargs

    # --- What a screen says --------------------------------------------------------------------------------------

    def load(self) -> None:
        """Read (and `access.open`) the records the URL names."""

    def blocked(self) -> str | None:
        """A reason why nothing can be recorded on this screen now (shown with the form, every step), or None."""
        return None

    def build_form(self, data=None):
        raise NotImplementedError

    def opened(self, form) -> None:
        """The input is valid (確認 or 記録): name in the access log what it concerns."""

    def lock_keys(self, form=None) -> list:
        """The records to lock; with a valid form, also those the input names (e.g. a target 世帯)."""
        return []

    def acquire_locks(self, keys: list) -> None:
        """Take or renew the locks; raise one of `lock_refused` (with a `message`) when another clerk holds one."""

    def check_locks(self, keys: list) -> None:
        """Take nothing; raise one of `lock_refused` when another clerk holds one of the locks (a GET)."""

    def release_locks(self, keys: list) -> None:
        """Give the locks up."""

    def check(self, form, data: list[list[str]]) -> tuple[dict[str, Any], str]:
        """What the 確認 screen shows (its context) and the fingerprint of it; a ValidationError sends the clerk back
        to the form."""
        return {}, ""

    def execute(self, form) -> Any:
        """Call the service with the cleaned input and return its result."""
        raise NotImplementedError

    def outcome(self, result) -> tuple[str, str]:
        """(URL to go to, message) after recording."""
        raise NotImplementedError

    def context(self) -> dict[str, Any]:
        return {}

    def refused(self, form, error: ValidationError) -> None:
        """Put a service's refusal on the form."""
        form.add_service_error(error)

    # --- The steps -----------------------------------------------------------------------------------------------

    def steps(self) -> dict[str, Callable[[], HttpResponse]]:
        return {"confirm": self.confirm, self.record_step: self.record, "back": self.back}

    def step(self) -> str:
        if "back" in self.request.POST:  # a 「戻って直す」 button named `back`
            return "back"
        return self.request.POST.get("step", "confirm")

    def handle(self) -> HttpResponse:
        self.load()
        if self.request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        blocked = self.blocked()
        if blocked is not None:
            form = self.build_form(self.request.POST if self.request.method == "POST" else None)
            return self.render(self.form_template, {"form": form, "blocked": blocked})
        if self.request.method == "GET":
            return self.start()
        return self.steps().get(self.step(), self.confirm)()

    def start(self) -> HttpResponse:
        try:
            self.check_locks(self.lock_keys())
        except self.lock_refused as refused:
            return self.render_locked(refused)
        return self.render_form(self.build_form(), idempotency.new_entry_key())

    def confirm(self) -> HttpResponse:
        entry_key = self.request.POST.get("entry_key", "")
        if not idempotency.is_entry_key(entry_key):
            entry_key = idempotency.new_entry_key()
        used = idempotency.find_used(self.token_model, entry_key)
        if used is not None:
            return self.render_already(used)
        form = self.build_form(self.request.POST)
        try:
            self.acquire_locks(self.lock_keys())
            if not form.is_valid():
                return self.render_form(form, entry_key, status=self.invalid_status)
            self.acquire_locks(self.lock_keys(form))
        except self.lock_refused as refused:
            return self.render_locked(refused)
        self.opened(form)
        return self.preview(form, entry_key, idempotency.data_items(self.request.POST))

    def preview(self, form, entry_key: str, data: list[list[str]], notice: str = "") -> HttpResponse:
        try:
            shown, fingerprint = self.check(form, data)
        except ValidationError as error:
            self.refused(form, error)
            return self.render_form(form, entry_key)
        token = idempotency.issue(
            entry_key, user_id=self.request.user.pk, purpose=self.purpose, data=data, fingerprint=fingerprint
        )
        return self.render(self.confirm_template, {"form": form, "token": token, **self.noticed(notice), **shown})

    def _from_token(self):
        token = self.request.POST.get("token", "")
        payload = idempotency.read(token, user_id=self.request.user.pk, purpose=self.purpose)
        return payload, self.build_form(idempotency.to_querydict(payload["d"]))

    def record(self) -> HttpResponse:
        try:
            payload, form = self._from_token()
        except idempotency.TokenError as error:
            return self.render_form(self.build_form(), idempotency.new_entry_key(), notice=str(error))
        valid = form.is_valid()
        if valid:
            self.opened(form)
        used = idempotency.find_used(self.token_model, payload["k"])
        if used is not None:
            return self.render_already(used)
        if not valid:
            return self.render_form(form, payload["k"])
        return self.record_valid(form, payload)

    def record_valid(self, form, payload: dict[str, Any]) -> HttpResponse:
        """記録 of a valid confirmed input whose entry key is not used yet."""
        raise NotImplementedError

    def back(self) -> HttpResponse:
        """Back to the form with the input: the token's, or the page's own (a 確認 screen without a token)."""
        try:
            if self.request.POST.get("token"):
                payload, form = self._from_token()
                entry_key = payload["k"]
            else:
                form, entry_key = self.build_form(self.request.POST), idempotency.new_entry_key()
        except idempotency.TokenError as error:
            return self.render_form(self.build_form(), idempotency.new_entry_key(), notice=str(error))
        try:
            self.acquire_locks(self.lock_keys())
        except self.lock_refused as refused:
            return self.render_locked(refused)
        form.is_valid()
        return self.render_form(form, entry_key)

    # --- Rendering -----------------------------------------------------------------------------------------------

    def render(self, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
        return render(
            self.request, template, {"flow": self, "title": self.title, **self.context(), **context}, status=status
        )

    def render_form(self, form, entry_key: str, notice: str = "", status: int = 200) -> HttpResponse:
        if hasattr(form, "focus_first"):
            form.focus_first()
        context = {"form": form, "entry_key": entry_key, **self.noticed(notice)}
        return self.render(self.form_template, context, status=status)

    def noticed(self, notice: str) -> dict[str, str]:
        """A notice for the clerk (a spent or foreign token, a change since 確認) on the page; none, no key (a screen
        may name its own record `notice`)."""
        return {"notice": notice} if notice else {}

    def render_locked(self, refused: Exception) -> HttpResponse:
        return self.render(self.locked_template, {"message": getattr(refused, "message", str(refused))}, status=409)

    def render_already(self, used) -> HttpResponse:
        return self.render(self.already_template, {"used": used}, status=409)


class OneStepFlow(ConfirmFlow):
    """A screen whose 確認 only repeats the input (a supervisor's action, the 処理 of a notice): no edit locks, no
    captured preview. Its 確認 page posts `step=commit`; a second use of the same confirmation is answered with
    `already_done` on the page the screen returns to."""

    record_step = "commit"
    already_done = "この操作はすでに処理されています（二重送信）。結果を一覧で確かめてください。"
    service_fields: dict[str, str] = {}  # a service's name for an input → the form's field

    def check(self, form, data: list[list[str]]) -> tuple[dict[str, Any], str]:
        return self.confirm_context(form), ""

    def confirm_context(self, form) -> dict[str, Any]:
        """What the 確認 page shows besides the input; a ValidationError sends the clerk back to the form."""
        return {}

    def return_url(self) -> str:
        """The page the screen returns to: after recording, and when the same confirmation comes again."""
        raise NotImplementedError

    def done(self, result) -> str:
        """The message after recording."""
        raise NotImplementedError

    def outcome(self, result) -> tuple[str, str]:
        return self.return_url(), self.done(result)

    def record_valid(self, form, payload: dict[str, Any]) -> HttpResponse:
        """記録 of a valid confirmed input: the entry key is consumed first, in a transaction of its own (the first
        of two identical POSTs wins); then the service runs, outside any transaction of ours, so that what a refusing
        service logs stays. A refusal shows the form again (a new 確認 is a new entry)."""
        try:
            used = self.consume(payload["k"])
        except idempotency.AlreadyUsed as already:
            return self.render_already(already.used)
        try:
            return self.recorded(form, used)
        except ValidationError as error:
            return self.refuse(form, error)

    def consume(self, entry_key: str) -> idempotency.UsedTokenBase:
        with transaction.atomic():
            return idempotency.consume(self.token_model, entry_key, user=self.request.user, purpose=self.purpose)

    def recorded(self, form, used: idempotency.UsedTokenBase) -> HttpResponse:
        url, message = self.outcome(self.execute(form))
        idempotency.settle(used, url=url, label=message)
        messages.success(self.request, message)
        return redirect(url)

    def refuse(self, form, error: ValidationError) -> HttpResponse:
        self.refused(form, error)
        return self.render_form(form, idempotency.new_entry_key())

    def render_already(self, used) -> HttpResponse:
        messages.warning(self.request, self.already_done)
        return redirect(self.return_url())

    def noticed(self, notice: str) -> dict[str, str]:
        if notice:
            messages.warning(self.request, notice)
        return {}

    def refused(self, form, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for name, errors in error.message_dict.items():
                name = self.service_fields.get(name, name)
                form.add_error(name if name in form.fields else None, errors)
        else:
            form.add_error(None, error.messages)


class EntryFlow(ConfirmFlow):
    """One entry screen: form → 確認 → 記録, with edit locks and the service's own run as the 確認 screen."""

    confirm_template = "registry/changes/confirm.html"
    specs: tuple[DisplaySpec, ...] = ()

    # --- What a screen says --------------------------------------------------------------------------------------

    def cancel_url(self) -> str:
        raise NotImplementedError

    def persons_recorded(self, result) -> Iterable:
        return ()

    def may_see(self, record) -> bool:
        """Whether a person record may be shown unmasked on the 確認 screen."""
        return self.access.may_see(record)

    def name_persons(self, by_kind: dict[str, list[int]]) -> None:
        """Name the persons shown in the access log (subject kind → ids)."""
        for ids in by_kind.values():
            self.access.show(*ids)

    def note_refused_person(self, error: ValidationError) -> None:
        """A service refused to change a restricted person for lack of a grant (audit.visibility): the screen shows
        only the refusal, and the access-log entry of the request names the person."""
        record = getattr(error, "record", None)
        if record is None or getattr(error, "code", None) != "restricted_person":
            return
        named = self.access.conditions.setdefault("restricted_persons", {})
        ids = named.setdefault(record._meta.model_name.replace("fuhyoentry", "fuhyo_entry"), [])
        if record.pk is not None and record.pk not in ids:
            ids.append(record.pk)

    def refused(self, form, error: ValidationError) -> None:
        self.note_refused_person(error)
        form.add_service_error(error)

    # --- The steps -----------------------------------------------------------------------------------------------

    def steps(self) -> dict[str, Callable[[], HttpResponse]]:
        return {**super().steps(), "cancel": self.cancel}

    def step(self) -> str:
        return self.request.POST.get("step", "confirm")

    def check(self, form, data: list[list[str]]) -> tuple[dict[str, Any], str]:
        _, preview = run_captured(
            lambda: self.execute(form),
            self.specs,
            may_see=self.may_see,
            given=[value for _, value in data],
            rollback=True,
        )
        self.name_persons(preview.shown)
        return {"preview": preview}, preview.fingerprint()

    def record_valid(self, form, payload: dict[str, Any]) -> HttpResponse:
        """記録: in one transaction, the entry key is consumed, the locks renewed and the service run under capture;
        anything other than what was confirmed rolls it all back (a fresh 確認 screen), and so does a refusal."""
        entry_key = payload["k"]
        keys = [*self.lock_keys(), *self.lock_keys(form)]
        try:
            with transaction.atomic():
                used = idempotency.consume(self.token_model, entry_key, user=self.request.user, purpose=self.purpose)
                self.acquire_locks(keys)
                result, done = run_captured(
                    lambda: self.execute(form),
                    self.specs,
                    may_see=self.may_see,
                    given=[value for _, value in payload["d"]],
                    rollback=False,
                )
                if done.fingerprint() != payload.get("f"):
                    raise ContentChanged
                url, message = self.outcome(result)
                idempotency.settle(used, url=url, label=message)
                self.release_locks(keys)
        except idempotency.AlreadyUsed as already:
            return self.render_already(already.used)
        except self.lock_refused as refused:
            return self.render_locked(refused)
        except ValidationError as error:
            self.refused(form, error)
            return self.render_form(form, entry_key)
        except ContentChanged:
            notice = "確認の後に記録の内容が変わりました（他の異動が記録されたなど）。もう一度確認してください。"
            return self.preview(form, entry_key, payload["d"], notice=notice)
        self.name_persons(done.shown)
        self.name_persons(done.created)
        self.access.show(*self.persons_recorded(result))
        messages.success(self.request, message)
        return redirect(url)

    def cancel(self) -> HttpResponse:
        keys = list(self.lock_keys())
        form = None
        try:
            form = self._from_token()[1] if self.request.POST.get("token") else self.build_form(self.request.POST)
        except idempotency.TokenError:
            pass
        if form is not None and form.is_valid():
            keys += self.lock_keys(form)
        self.release_locks(keys)
        messages.info(self.request, "入力を取り消しました。記録は変わっていません。")
        return redirect(self.cancel_url())
