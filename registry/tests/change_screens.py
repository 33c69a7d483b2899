"""Helpers for the entry-screen tests (異動 and 届出): log a clerk in with a role, and walk form → 確認 → 記録."""

import html
import re
from dataclasses import dataclass

from django.test import Client

from common.roles import assign_role, ensure_roles

_HIDDEN = re.compile(r'<input type="hidden" name="(?P<name>entry_key|token)" value="(?P<value>[^"]*)"')


def hidden(response, name: str) -> str:
    body = response.content.decode()
    for match in _HIDDEN.finditer(body):
        if match["name"] == name:
            return html.unescape(match["value"])
    raise AssertionError(f"no hidden {name} on the page:\n{body[:3000]}")


def login(client: Client, user, role) -> Client:
    assign_role(user, role, ensure_roles())
    client.force_login(user)
    return client


@dataclass
class Walk:
    form: object
    confirm: object
    token: str
    entry_key: str


def to_confirm(client: Client, url: str, data: dict, *, expect_ok: bool = True) -> Walk:
    """Open the form and submit it to the 確認 screen."""
    form = client.get(url)
    assert form.status_code == 200, form.content.decode()[:2000]
    entry_key = hidden(form, "entry_key")
    confirm = client.post(url, {**data, "entry_key": entry_key, "step": "confirm"})
    token = ""
    if expect_ok:
        assert confirm.status_code == 200, confirm.content.decode()[:3000]
        body = confirm.content.decode()
        assert 'name="token"' in body, errors_of(confirm)
        token = hidden(confirm, "token")
    return Walk(form=form, confirm=confirm, token=token, entry_key=entry_key)


def record(client: Client, url: str, token: str):
    return client.post(url, {"token": token, "step": "record"})


def errors_of(response) -> str:
    """The error messages on a page (for assertion messages)."""
    body = response.content.decode()
    found = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', body, re.S)
    return " / ".join(re.sub(r"<[^>]+>", "", f).strip() for f in found) or body[:2000]


def family(**head_overrides):
    """山田太郎 (世帯主), 花子 (妻), 一郎 (子) in one 世帯 of the ward."""
    import datetime as dt

    from registry.tests.factories import ResidentFactory

    head = ResidentFactory(**head_overrides)
    wife = ResidentFactory(
        household=head.household, relationship="妻", given_name="花子", given_name_kana="ハナコ", sex="2"
    )
    child = ResidentFactory(
        household=head.household,
        relationship="子",
        given_name="一郎",
        given_name_kana="イチロウ",
        birth_date=dt.date(2010, 1, 1),
    )
    return head, wife, child


def counts() -> tuple[int, ...]:
    """Rows of every table an 異動 or 届出 writes: equal before and after means nothing changed."""
    from common.models import ChangeEvent
    from koseki_fuhyo.models import FuhyoAddress, FuhyoEntry, Koseki, KosekiFiling
    from registry.models import Household, Resident, ResidentChange, UsedSubmissionToken

    models = (Resident, Household, ResidentChange, ChangeEvent, KosekiFiling, FuhyoEntry, FuhyoAddress, Koseki)
    return (*(m.objects.count() for m in models), UsedSubmissionToken.objects.count())


def snapshot(*records) -> list[dict]:
    """The stored values of records (refetched), to prove that a refused input changed nothing."""
    from django.forms.models import model_to_dict

    return [model_to_dict(type(r).objects.get(pk=r.pk)) for r in records]
