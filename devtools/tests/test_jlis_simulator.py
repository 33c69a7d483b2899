"""The simulated J-LIS speaks the real protocol: it accepts 附票本人確認情報 from listed wards only, answers with a
signed acknowledgement that carries a 情報提供用個人識別符号 the first time it sees a person, answers a redelivery
409 with the same symbol, and refuses like the ward does (4xx + JSON error)."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from common.juminhyo_codes import juminhyo_code_for
from devtools.simulators.jlis import JLIS_CODE, PUBLIC_FILE, JlisSimulator, read_state, serve
from transfers.acks import ACCEPTED, DUPLICATE, read_ack
from transfers.envelope import Identity, PartnerKeys, new_header, seal

WARD = "131041"
CODE, OTHER_CODE = juminhyo_code_for(1), juminhyo_code_for(2)


def payload(code: str = CODE, surname: str = "山田", record_kind: str = "amendment") -> dict:
    return {
        "record_kind": record_kind,
        "reason": "転居",
        "recorded_on": "2026-11-25",
        "person": {
            "juminhyo_code": code,
            "surname": surname,
            "given_name": "太郎",
            "surname_kana": "ヤマダ",
            "given_name_kana": "タロウ",
            "birth_date": "1980-05-01",
            "sex": "1",
            "honseki_address": "北新宿一丁目1番",
            "hittousha_name": "山田　太郎",
            "address": {
                "municipality": "131130",
                "address": "神南一丁目2番3号",
                "is_abroad": False,
                "country": None,
                "established_on": "2026-11-20",
            },
        },
    }


def _document(identity: Identity, name: str) -> dict:
    sign_public, box_public = identity.public.to_b64()
    return {"code": identity.code, "name": name, "sign_public": sign_public, "box_public": box_public}


@pytest.fixture
def ward():
    return Identity.generate(WARD)


@pytest.fixture
def jlis(tmp_path, ward):
    partners = tmp_path / "partners"
    partners.mkdir()
    (partners / f"{WARD}.json").write_text(json.dumps(_document(ward, "新宿区")), encoding="utf-8")
    return JlisSimulator(key_dir=tmp_path / "keys", state=tmp_path / "state.sqlite3", partners=partners)


def _send(jlis: JlisSimulator, sender: Identity, body: dict, *, kind: str = "jlis_fuhyo", message_id=None):
    header = new_header(kind, 1, sender.code, JLIS_CODE, message_id=message_id)
    return header, jlis.receive(seal(header, body, sender, jlis.identity.public))


def test_first_notice_of_a_person_gets_a_symbol_later_ones_do_not(jlis, ward):
    header, reply = _send(jlis, ward, payload())
    assert reply.status == 200
    ack = read_ack(reply.body, ward, jlis.identity.public, header.message_id)
    assert ack.status == ACCEPTED
    assert ack.symbol["juminhyo_code"] == CODE
    assert len(ack.symbol["symbol"]) == 32

    header2, reply2 = _send(jlis, ward, payload(record_kind="amendment"))
    ack2 = read_ack(reply2.body, ward, jlis.identity.public, header2.message_id)
    assert (reply2.status, ack2.status, ack2.symbol) == (200, ACCEPTED, None)

    header3, reply3 = _send(jlis, ward, payload(code=OTHER_CODE))
    symbol3 = read_ack(reply3.body, ward, jlis.identity.public, header3.message_id).symbol
    assert symbol3["symbol"] != ack.symbol["symbol"]

    state = read_state(jlis.state)
    assert {row["message_id"] for row in state["received"]} == {h.message_id for h in (header, header2, header3)}
    assert {row["juminhyo_code"]: row["symbol"] for row in state["symbols"]} == {
        CODE: ack.symbol["symbol"],
        OTHER_CODE: symbol3["symbol"],
    }


def test_a_redelivered_notice_is_answered_409_duplicate_with_the_same_symbol(jlis, ward):
    header, first = _send(jlis, ward, payload())
    symbol = read_ack(first.body, ward, jlis.identity.public, header.message_id).symbol
    _, again = _send(jlis, ward, payload(), message_id=header.message_id)  # sealed afresh, same message id
    assert again.status == 409
    ack = read_ack(again.body, ward, jlis.identity.public, header.message_id)
    assert (ack.status, ack.symbol) == (DUPLICATE, symbol)
    state = read_state(jlis.state)
    assert len(state["received"]) == 1
    assert [row["code"] for row in state["rejections"]] == ["replay"]


def test_refusals_are_4xx_with_a_json_error_and_store_nothing(jlis, ward):
    stranger = Identity.generate("131130")  # not in the partners directory
    cases = [
        (_send(jlis, stranger, payload())[1], 403, "unknown_sender"),
        (_send(jlis, ward, payload(), kind="fuhyo_items")[1], 400, "bad_payload"),
        (_send(jlis, ward, payload(record_kind="rewrite"))[1], 400, "bad_payload"),
        (jlis.receive(b"not json"), 400, "malformed"),
    ]
    for reply, status, code in cases:
        assert reply.status == status
        error = json.loads(reply.body)
        assert error["error"] == code
        assert error["message"]
    state = read_state(jlis.state)
    assert state["received"] == []
    assert state["symbols"] == []
    assert [row["code"] for row in state["rejections"]] == ["unknown_sender", "bad_payload", "bad_payload", "malformed"]


def test_a_ward_added_to_the_partners_directory_is_accepted_without_restart(jlis, tmp_path):
    newcomer = Identity.generate("131130")
    assert _send(jlis, newcomer, payload())[1].status == 403
    (tmp_path / "partners" / "131130.json").write_text(json.dumps(_document(newcomer, "渋谷区")), encoding="utf-8")
    assert _send(jlis, newcomer, payload())[1].status == 200


def test_keys_are_kept_across_restarts_and_exported(tmp_path, jlis):
    again = JlisSimulator(key_dir=tmp_path / "keys", state=tmp_path / "state.sqlite3", partners=tmp_path / "partners")
    assert again.identity.public.to_b64() == jlis.identity.public.to_b64()
    document = json.loads((tmp_path / "keys" / PUBLIC_FILE).read_text(encoding="utf-8"))
    assert document["code"] == JLIS_CODE
    assert (document["sign_public"], document["box_public"]) == jlis.identity.public.to_b64()


def test_over_http_post_only_size_bounded(jlis, ward):
    server = serve(jlis, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/inbound/"
    try:
        header = new_header("jlis_fuhyo", 1, WARD, JLIS_CODE)
        raw = seal(header, payload(), ward, jlis.identity.public)
        request = urllib.request.Request(base, data=raw, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status == 200
            assert read_ack(response.read(), ward, jlis.identity.public, header.message_id).symbol
        for request, status in [
            (urllib.request.Request(base), 405),
            (urllib.request.Request(base, data=b"x" * 1_000_001), 413),
        ]:
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback
            assert refused.value.code == status
            assert json.loads(refused.value.read())["error"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_init_only_writes_the_public_key(tmp_path):
    call_command("run_jlis_simulator", "--init-only", "--key-dir", str(tmp_path / "keys"))
    assert json.loads((tmp_path / "keys" / PUBLIC_FILE).read_text(encoding="utf-8"))["code"] == JLIS_CODE


@pytest.mark.slow
@pytest.mark.real_clock
def test_the_command_serves_until_sigterm(tmp_path, ward):
    partners = tmp_path / "partners"
    partners.mkdir()
    (partners / f"{WARD}.json").write_text(json.dumps(_document(ward, "新宿区")), encoding="utf-8")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings", DJANGO_ALLOW_DEV_SECRET="true")
    env["WARD_VAR_DIR"] = str(tmp_path / "var")
    argv = [sys.executable, "manage.py", "run_jlis_simulator", "--port", "0", "--key-dir", str(tmp_path / "keys")]
    argv += ["--state", str(tmp_path / "state.sqlite3"), "--partners", str(partners)]
    proc = subprocess.Popen(  # noqa: S603
        argv, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        line = proc.stdout.readline()  # the first line names the URL (blocks until the server is bound)
        assert "http://127.0.0.1:" in line, line
        url = re.search(r"http://[0-9.:]+/inbound/", line).group(0)
        jlis_keys = json.loads((tmp_path / "keys" / PUBLIC_FILE).read_text(encoding="utf-8"))
        jlis_public = PartnerKeys.from_b64(JLIS_CODE, jlis_keys["sign_public"], jlis_keys["box_public"])
        header = new_header("jlis_fuhyo", 1, WARD, JLIS_CODE)
        request = urllib.request.Request(url, data=seal(header, payload(), ward, jlis_public))  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            assert read_ack(response.read(), ward, jlis_public, header.message_id).status == ACCEPTED
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert "停止しました" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert len(read_state(Path(tmp_path / "state.sqlite3"))["received"]) == 1
