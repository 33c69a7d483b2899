"""One-time submission tokens: the same input is never recorded twice.

An entry screen hands out an *entry key* (a random nonce) when its form is opened; the key travels with the form
to the 確認 screen, where it is signed together with the input, the screen and the clerk into a *token*. The 記録
POST carries only that token: what is recorded is exactly the input that was confirmed.

Recording *consumes* the key: a row in a table of used keys, inserted in the same transaction as the service call.
The key column is unique, so a second use — a double click, the back button and 記録 again, a reload of the POST,
or the same form confirmed again after it was recorded — fails on the constraint (on PostgreSQL the second
transaction waits for the first and then fails), and the clerk is told 「この入力はすでに記録されています」 with a link
to the result. If the service refuses the input, the transaction rolls back, the key stays unused and the clerk can
correct the input and record it.

The table is `UsedTokenBase` made concrete by the app that hosts it (registry.models.UsedSubmissionToken); this module
takes the concrete model as an argument, so that `common` depends on no register app.
"""

import json
import re
import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, models, transaction
from django.http import QueryDict

TOKEN_MAX_AGE = 2 * 60 * 60  # a 確認 screen left open longer than two hours must be confirmed again
_SALT = "common.idempotency.token"
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")


class TokenError(Exception):
    """The token is forged, expired, or belongs to another clerk or screen. The message is for the clerk."""


class AlreadyUsed(Exception):
    """The entry key was used before: the input has already been recorded."""

    def __init__(self, used: "UsedTokenBase") -> None:
        super().__init__("already used")
        self.used = used


class UsedTokenBase(models.Model):
    """使用済みの送信キー: one row per recorded input. The unique key is what stops a second recording."""

    key = models.CharField("送信キー", max_length=32, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="職員", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField("画面", max_length=80)
    used_at = models.DateTimeField("記録日時", auto_now_add=True)
    result_url = models.CharField("記録の結果", max_length=300, blank=True)
    result_label = models.CharField("結果の表示", max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"送信キー #{self.pk}"


def new_entry_key() -> str:
    """A fresh entry key (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


def is_entry_key(value: str | None) -> bool:
    return value is not None and bool(_KEY_RE.match(value))


def issue(entry_key: str, *, user_id: int | None, purpose: str, data: list[list[str]], fingerprint: str = "") -> str:
    """The token of a 確認 screen: entry key, clerk, screen, the confirmed input and the fingerprint of what the
    確認 screen showed, signed (and compressed) so that none of it can be altered in the browser."""
    if not is_entry_key(entry_key):
        raise TokenError("送信キーが正しくありません。入力画面からやり直してください。")
    payload = {"k": entry_key, "u": user_id, "p": purpose, "d": data, "f": fingerprint}
    return signing.dumps(payload, salt=_SALT, compress=True)


def read(token: str, *, user_id: int | None, purpose: str) -> dict[str, Any]:
    """The payload of a token issued to this clerk for this screen: {"k": entry key, "d": data, "f": fingerprint}."""
    try:
        payload = signing.loads(token or "", salt=_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise TokenError("確認画面の有効期限が切れました。もう一度確認してください。") from None
    except signing.BadSignature:
        raise TokenError("確認画面の内容を読み取れません。入力画面からやり直してください。") from None
    if payload.get("u") != user_id or payload.get("p") != purpose or not is_entry_key(payload.get("k")):
        raise TokenError("この確認画面は別の職員または別の画面のものです。入力画面からやり直してください。")
    return payload


def find_used(model: type[UsedTokenBase], entry_key: str) -> UsedTokenBase | None:
    return model._default_manager.filter(key=entry_key).first() if is_entry_key(entry_key) else None


def consume(model: type[UsedTokenBase], entry_key: str, *, user, purpose: str) -> UsedTokenBase:
    """Mark the key used, inside the caller's transaction (the one that records). Raises AlreadyUsed.

    Race: two requests with the same key both INSERT; the unique index lets one through, the other waits (on
    PostgreSQL, until the first commits) and gets an IntegrityError, which we answer with the first one's row.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("consume() must run in the transaction that records the input")
    try:
        with transaction.atomic():  # a savepoint: the IntegrityError must not break the caller's transaction
            return model._default_manager.create(key=entry_key, user=user, purpose=purpose)
    except IntegrityError:
        existing = model._default_manager.filter(key=entry_key).first()
        if existing is None:  # the other transaction rolled back in between: nothing was recorded, try once more
            with transaction.atomic():
                return model._default_manager.create(key=entry_key, user=user, purpose=purpose)
        raise AlreadyUsed(existing) from None


def settle(used: UsedTokenBase, *, url: str, label: str) -> None:
    """Remember where the result of the recording can be seen (the link shown on a second use)."""
    used.result_url = url[:300]
    used.result_label = label[:200]
    used.save(update_fields=["result_url", "result_label"])


def data_items(querydict, *, exclude: frozenset[str] = frozenset()) -> list[list[str]]:
    """The submitted fields as [name, value] pairs (repeated names kept), minus the flow's own fields."""
    skip = {"csrfmiddlewaretoken", "step", "token", "entry_key"} | set(exclude)
    return [[key, value] for key in sorted(querydict) if key not in skip for value in querydict.getlist(key)]


def to_querydict(items: list[list[str]]):
    qd = QueryDict(mutable=True)
    for key, value in items:
        qd.appendlist(key, value)
    return qd


def canonical(items: list[list[str]]) -> str:
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))
