"""Transport adapters: HTTP answers mapped to acks or TransportError; the spool written atomically and read back."""

import os
import socket
import uuid

import pytest

from common.juminhyo_codes import juminhyo_code_for
from transfers.envelope import new_header, seal
from transfers.models import Partner
from transfers.transport import TransportError, spool, transport_for
from transfers.transport.http import HttpTransport
from transfers.transport.spool import SpoolTransport

from .fake_partner import (
    partner_server_fixture,  # noqa: F401 - the `partner_server` fixture
    ward_identity_for_tests_fixture,  # noqa: F401 - the `ward_identity_for_tests` fixture
)

pytestmark = pytest.mark.django_db


def _envelope(ward, server) -> tuple[str, bytes]:
    header = new_header("fuhyo_items", 1, ward.code, server.code)
    return header.message_id, seal(
        header, {"person": {"juminhyo_code": juminhyo_code_for(1)}}, ward, server.identity.public
    )


def test_http_200_returns_the_ack_and_409_too(ward_identity_for_tests, partner_server):
    partner = partner_server.register()
    message_id, raw = _envelope(ward_identity_for_tests, partner_server)
    first = HttpTransport().send(partner, message_id, raw)
    again = HttpTransport().send(partner, message_id, raw)  # the fake answers 409 + duplicate ack
    assert first
    assert again
    assert first != again
    assert partner_server.received == [message_id, message_id]


@pytest.mark.parametrize(
    ("mode", "retryable", "status", "text"),
    [
        ("unavailable", True, 503, "HTTP 503"),
        ("refuse", False, 403, "HTTP 403 unknown_sender"),
        ("empty", True, 200, "空"),
    ],
)
def test_http_failures_raise_transport_error(ward_identity_for_tests, partner_server, mode, retryable, status, text):
    partner = partner_server.register()
    partner_server.mode = mode
    message_id, raw = _envelope(ward_identity_for_tests, partner_server)
    with pytest.raises(TransportError) as caught:
        HttpTransport().send(partner, message_id, raw)
    assert (caught.value.retryable, caught.value.status) == (retryable, status)
    assert text in caught.value.message


def test_http_timeout_is_a_retryable_error(settings, ward_identity_for_tests, partner_server):
    settings.TRANSFERS_HTTP_TIMEOUT = 0.3
    partner = partner_server.register()
    partner_server.mode = "hang"
    message_id, raw = _envelope(ward_identity_for_tests, partner_server)
    with pytest.raises(TransportError) as caught:
        HttpTransport().send(partner, message_id, raw)
    assert caught.value.retryable
    assert "応答しません" in caught.value.message


def test_http_connection_refused_is_retryable(ward_identity_for_tests, partner_server):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    partner = partner_server.register(endpoint=f"http://127.0.0.1:{port}/transfers/inbound/")
    message_id, raw = _envelope(ward_identity_for_tests, partner_server)
    with pytest.raises(TransportError) as caught:
        HttpTransport().send(partner, message_id, raw)
    assert caught.value.retryable
    assert "接続できません" in caught.value.message
    assert caught.value.status is None


def test_http_without_endpoint_fails_for_good():
    partner = Partner(code="131130", transport="http", endpoint="")
    with pytest.raises(TransportError) as caught:
        HttpTransport().send(partner, str(uuid.uuid4()), b"{}")
    assert not caught.value.retryable


def test_adapter_is_chosen_per_partner():
    assert isinstance(transport_for(Partner(transport="http")), HttpTransport)
    assert isinstance(transport_for(Partner(transport="spool")), SpoolTransport)
    with pytest.raises(TransportError):
        transport_for(Partner(transport="carrier-pigeon"))


def test_spool_write_is_atomic_and_acks_are_collected_and_archived(tmp_path):
    partner = Partner(code="J-LIS", transport="spool", spool_dir=str(tmp_path))
    message_id = str(uuid.uuid4())
    assert SpoolTransport().send(partner, message_id, b'{"v": 1}') is None
    written = tmp_path / "out" / f"{message_id}.env"
    assert written.read_bytes() == b'{"v": 1}'
    assert os.listdir(tmp_path / "out") == [written.name]  # no temporary file left behind

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.ack").write_bytes(b"ack-a")
    (tmp_path / "in" / "b.env").write_bytes(b"a message from the CS: not ours to read")
    (tmp_path / "in" / ".c.ack.tmp").write_bytes(b"half written")
    (found,) = spool.collect_acks(partner)
    assert (found.path.name, found.raw) == ("a.ack", b"ack-a")
    assert spool.archive(found, accepted=True) == tmp_path / "in" / "done" / "a.ack"
    assert spool.archive(found, accepted=True) is None  # already moved
    assert spool.collect_acks(partner) == []


def test_spool_without_directory_fails_for_good():
    with pytest.raises(TransportError) as caught:
        SpoolTransport().send(Partner(code="J-LIS", transport="spool"), str(uuid.uuid4()), b"{}")
    assert not caught.value.retryable
