"""The supervisor's exports through the screens: form → 確認 → 記録, the password shown once, the file downloaded
once, the 管理簿 entry (digest of the very file), the audit entries of the same request, restricted persons left
out, refusals logged."""

import csv
import datetime as dt
import hashlib
import io
import random
import re

import pytest
import pyzipper
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit import restrictions
from audit.models import AuditLogEntry, HandoverRecord
from common.juminhyo_codes import random_juminhyo_code
from registry.tests.factories import HouseholdFactory, ResidentFactory

from .screens import append, entries_after, last_id, user_with

pytestmark = pytest.mark.django_db
EXPORT = "audit.export_records"
KATSURAGI_IVS = "葛\U000e0100"
UNKNOWN_CODE = random_juminhyo_code(random.Random(5))  # noqa: S311 - a valid check digit, nobody's code


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


@pytest.fixture
def client_as(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def people(supervisor):
    """A 世帯 of two (the head with an IVS name), a person restricted without a grant, one restricted with a grant
    to the supervisor."""
    household = HouseholdFactory()
    head = ResidentFactory(
        household=household,
        surname=KATSURAGI_IVS + "城",
        given_name="一郎",
        surname_kana="カツラギ",
        given_name_kana="イチロウ",
    )
    wife = ResidentFactory(
        household=household,
        relationship="妻",
        surname=KATSURAGI_IVS + "城",
        given_name="花子",
        surname_kana="カツラギ",
        given_name_kana="ハナコ",
        sex="2",
    )
    hidden = ResidentFactory(surname="高橋", given_name="秘子", surname_kana="タカハシ", given_name_kana="ヒミコ")
    granted = ResidentFactory(surname="田中", given_name="許子", surname_kana="タナカ", given_name_kana="ユルコ")
    for person in (hidden, granted):
        restrictions.restrict(
            actor=supervisor, kind="dv_support", reason="支援措置", starts_on=dt.date(2026, 11, 1), resident=person
        )
    restrictions.grant(  # approved by a second supervisor: nobody grants to themselves (issue 12)
        actor=user_with("kantoku-approver"),
        user=supervisor,
        reason="提供の審査",
        expires_at=timezone.now() + dt.timedelta(days=3),
        resident=granted,
    )
    for person in (head, wife, hidden, granted):
        person.refresh_from_db()
    return {"head": head, "wife": wife, "hidden": hidden, "granted": granted}


def _token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode())[1]


def _password(response) -> str:
    return re.search(r'id="export-password" value="([^"]+)"', response.content.decode())[1]


def _csv(path_or_bytes, password: str) -> list[list[str]]:
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with pyzipper.AESZipFile(source) as zf:
        zf.setpassword(password.encode())
        data = zf.read(zf.namelist()[0])
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _records_data(**overrides) -> dict:
    data = {
        "purpose": "転出先の区への引継ぎ（テスト）",
        "recipient": "渋谷区 区民課",
        "status": "current",
        "step": "confirm",
    }
    data.update(overrides)
    return data


def _export_records(client, **overrides):
    url = reverse("audit:export_records")
    confirm = client.post(url, _records_data(**overrides))
    assert confirm.status_code == 200, confirm.content.decode()[:2000]
    return confirm, client.post(url, _records_data(**overrides, step="commit", token=_token(confirm)))


def _codes(*persons) -> str:
    return "\n".join(p.juminhyo_code for p in persons)


# --- Records for a hand-over ---------------------------------------------------------------------------------------


def test_records_by_codes_restricted_left_out_ivs_kept_password_once(client_as, people, supervisor, export_dir):
    mark = last_id()
    confirm, done = _export_records(client_as, codes=_codes(*people.values()) + "\n" + UNKNOWN_CODE)
    page = confirm.content.decode()
    assert "閲覧制限により除く人数</dt><dd>1人" in page
    assert "書き出す人数</dt><dd>3人" in page
    assert f"該当する住民票のない住民票コード</dt><dd>{UNKNOWN_CODE}" in page
    assert done.status_code == 200
    assert "no-store" in done["Cache-Control"]
    password = _password(done)
    assert len(password) >= 20

    record = HandoverRecord.objects.get()
    assert (record.kind, record.handler, record.row_count) == ("records_csv", supervisor, 3)
    assert record.purpose == "転出先の区への引継ぎ（テスト）"
    assert record.recipient == "渋谷区 区民課"
    assert record.conditions["left_out"] == 1
    assert "1人を除外" in record.content
    for person in people.values():  # no personal data in the 管理簿
        assert person.surname not in record.content + str(record.conditions)
        assert person.juminhyo_code not in record.content + str(record.conditions)

    path = export_dir / record.file_name
    content = path.read_bytes()
    assert hashlib.sha256(content).hexdigest() == record.file_digest
    assert len(content) == record.file_size
    rows = _csv(path, password)
    assert rows[0][:3] == ["住民票コード", "氏名", "氏名の振り仮名"]
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {people[k].juminhyo_code for k in ("head", "wife", "granted")}
    head = by_code[people["head"].juminhyo_code]
    assert head[1] == f"{KATSURAGI_IVS}城　一郎"  # the variation sequence survives
    assert head[6] == f"{KATSURAGI_IVS}城　一郎"  # 世帯主
    assert by_code[people["wife"].juminhyo_code][6:8] == [f"{KATSURAGI_IVS}城　一郎", "妻"]
    assert head[3] == "1980-05-01"
    assert head[5].startswith("東京都新宿区")
    assert head[8].startswith("東京都渋谷区")

    entries = entries_after(mark)
    access = [e for e in entries if e.category == "access" and e.conditions.get("step") == "commit"]
    assert [(e.outcome, e.action) for e in access] == [("shown", "exports.records_export")]
    assert sorted(access[0].subject_ids) == sorted(int(i) for i in record_ids(people, "head", "wife", "granted"))
    assert access[0].conditions["handover_id"] == record.pk
    operation = [e for e in entries if e.category == "operation"]
    assert [(e.action, e.conditions["handover_id"], e.conditions["file_digest"]) for e in operation] == [
        ("export", record.pk, record.file_digest)
    ]
    uses = [e for e in entries if e.category == "permission" and e.action == "use"]
    assert [e.subject_ids for e in uses] == [[people["granted"].pk]]

    # A reload re-posts the spent token: no second file, no password.
    again = client_as.post(
        reverse("audit:export_records"),
        _records_data(codes=_codes(*people.values()), step="commit", token=_token(confirm)),
    )
    assert again.status_code == 302
    assert HandoverRecord.objects.count() == 1
    for url in (
        again["Location"],
        reverse("audit:ledger_entry", args=[record.pk]),
        reverse("audit:export_download", args=[record.pk]),
    ):
        assert password not in client_as.get(url).content.decode()


def record_ids(people, *keys) -> list[int]:
    return [people[k].pk for k in keys]


def test_without_the_password_or_with_a_wrong_one_the_file_does_not_open(client_as, people, export_dir):
    _, done = _export_records(client_as, codes=_codes(people["head"]))
    record = HandoverRecord.objects.get()
    with pyzipper.AESZipFile(export_dir / record.file_name) as zf:
        name = zf.namelist()[0]
        with pytest.raises(RuntimeError, match="requires a password"):
            zf.read(name)
        zf.setpassword(b"AAAAAAAAAAAAAAAAAAAAAAAA")
        with pytest.raises(RuntimeError, match="Bad password"):
            zf.read(name)
    assert len(_csv(export_dir / record.file_name, _password(done))) == 2


def test_records_by_search_conditions(client_as, people):
    _, done = _export_records(client_as, kana="カツラギ")
    record = HandoverRecord.objects.get()
    assert record.row_count == 2
    assert record.conditions == {"mode": "search", "keys": ["kana"], "status": "current", "left_out": 0}
    assert "カツラギ" not in record.content
    assert done.status_code == 200


def test_records_by_name_find_the_ivs_name_typed_without_its_selector(client_as, people, export_dir):
    _, done = _export_records(client_as, name="葛城")
    record = HandoverRecord.objects.get()
    rows = _csv(export_dir / record.file_name, _password(done))
    assert sorted(row[1] for row in rows[1:]) == [f"{KATSURAGI_IVS}城　一郎", f"{KATSURAGI_IVS}城　花子"]


def test_the_download_is_the_file_once_and_only_for_its_maker(client_as, people, export_dir):
    _, done = _export_records(client_as, codes=_codes(people["head"]))
    record = HandoverRecord.objects.get()
    url = reverse("audit:export_download", args=[record.pk])
    other = Client()
    other.force_login(user_with("kantoku2", EXPORT))
    refused = other.post(url)
    assert refused.status_code == 200
    assert "書き出した職員だけ" in refused.content.decode()
    assert (export_dir / record.file_name).exists()

    mark = last_id()
    response = client_as.post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert record.file_name in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == record.file_digest
    assert len(_csv(body, _password(done))) == 2
    assert not (export_dir / record.file_name).exists()
    [entry] = entries_after(mark, category="access")
    assert (entry.action, entry.outcome, entry.conditions) == (
        "exports.download",
        "shown",
        {"handover_id": record.pk, "downloaded": True},
    )

    second = client_as.post(url)
    assert second.status_code == 200
    assert "ダウンロード済み" in second.content.decode()
    assert "サーバにありません" in client_as.get(url).content.decode()


def test_form_errors_in_japanese(client_as, people):
    url = reverse("audit:export_records")
    missing = client_as.post(url, _records_data(purpose="", codes=_codes(people["head"]))).content.decode()
    assert "書き出しの目的を入力してください。" in missing
    both = client_as.post(url, _records_data(kana="カツラギ", codes=_codes(people["head"]))).content.decode()
    assert "どちらか一方だけ" in both
    neither = client_as.post(url, _records_data()).content.decode()
    assert "検索条件か、住民票コードの一覧を入力してください。" in neither
    # deliberately invalid: a wrong check digit (…903 is right) and letters
    bad = client_as.post(url, _records_data(codes="12345678901\nabc")).content.decode()
    assert "住民票コードとして正しくないものが" in bad
    assert HandoverRecord.objects.count() == 0


def test_nothing_to_export_has_no_commit_button(client_as, people):
    confirm = client_as.post(reverse("audit:export_records"), _records_data(codes=_codes(people["hidden"])))
    page = confirm.content.decode()
    assert "書き出す人がいません" in page
    assert 'name="token"' not in page


# --- The access log -----------------------------------------------------------------------------------------------


def test_audit_log_export_filtered_without_names(client_as, supervisor, export_dir):
    for _ in range(3):
        append(username="madoguchi", conditions={"name": "山田", "kana": "ヤマダ", "status": "current"})
    append(username="someone-else")
    url = reverse("audit:export_audit_log")
    form = client_as.get(url, {"username": "madoguchi"})
    assert 'value="madoguchi"' in form.content.decode()  # the filter can be carried over from the log screen
    data = {"username": "madoguchi", "purpose": "定期監査", "recipient": "監査委員事務局", "step": "confirm"}
    confirm = client_as.post(url, data)
    assert "職員ID madoguchi" in confirm.content.decode()
    done = client_as.post(url, {**data, "step": "commit", "token": _token(confirm)})
    record = HandoverRecord.objects.get()
    assert (record.kind, record.row_count) == ("audit_log_csv", 3)
    assert record.conditions == {"username": "madoguchi"}
    rows = _csv(export_dir / record.file_name, _password(done))
    assert rows[0] == ["番号", "日時", "区分", "操作", "結果", "職員ID", "パス", "対象の種類", "対象の記録ID", "条件"]
    assert len(rows) == 4
    assert {row[5] for row in rows[1:]} == {"madoguchi"}
    text = "\n".join(",".join(r) for r in rows)
    assert "山田" not in text
    assert "ヤマダ" not in text
    assert '"name": "＊"' in rows[1][9]
    assert '"status": "current"' in rows[1][9]
    assert [int(r[0]) for r in rows[1:]] == sorted(int(r[0]) for r in rows[1:])  # oldest first


# --- Refusals and the transaction ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["audit:export_audit_log", "audit:export_records"])
def test_without_the_export_permission_refused_and_logged(client, name):
    user = user_with("clerk-x", "registry.view_resident", "audit.view_auditlogentry", "audit.view_handoverrecord")
    client.force_login(user)
    mark = last_id()
    assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse(name), {"purpose": "x", "codes": "", "step": "commit"}).status_code == 403
    assert [(e.outcome, e.username) for e in entries_after(mark)] == [("denied", "clerk-x")] * 2
    assert HandoverRecord.objects.count() == 0


def test_download_refused_without_the_permission(client_as, people):
    _export_records(client_as, codes=_codes(people["head"]))
    record = HandoverRecord.objects.get()
    reader = Client()
    reader.force_login(user_with("ledger-reader", "audit.view_handoverrecord"))
    mark = last_id()
    assert reader.post(reverse("audit:export_download", args=[record.pk])).status_code == 403
    assert [e.outcome for e in entries_after(mark)] == ["denied"]


def test_a_failure_after_the_ledger_entry_rolls_it_back_with_the_file(client_as, people, export_dir, monkeypatch):
    """The 管理簿 entry and the gate's access entry commit together: if the access entry cannot be written, neither
    stays (nor the file), and the failure is logged."""
    import audit.gate

    real = audit.gate.record_access

    def failing(request, action, outcome, **kwargs):
        if outcome == AuditLogEntry.Outcome.SHOWN and kwargs.get("conditions", {}).get("step") == "commit":
            raise RuntimeError("disk full")
        return real(request, action, outcome, **kwargs)

    monkeypatch.setattr(audit.gate, "record_access", failing)
    url = reverse("audit:export_records")
    confirm = client_as.post(url, _records_data(codes=_codes(people["head"])))
    mark = last_id()
    with pytest.raises(RuntimeError, match="disk full"):
        client_as.post(url, _records_data(codes=_codes(people["head"]), step="commit", token=_token(confirm)))
    assert HandoverRecord.objects.count() == 0
    assert list(export_dir.iterdir()) == []
    assert [(e.category, e.outcome, e.conditions) for e in entries_after(mark)] == [
        ("access", "error", {"rolled_back": True})
    ]
