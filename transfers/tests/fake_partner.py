"""A partner for the delivery tests: a small threaded HTTP server on 127.0.0.1 that opens our envelopes with its own
test identity and answers as the wire protocol says (200 + ack, 409 + ack for a message id it already has), or
misbehaves on demand (503, refusal, hang, an ack for another message, an ack signed by another key). It does not
depend on this system's inbound endpoint. Also: a CS that answers a spool directory, and the fixtures."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from common.juminhyo_codes import juminhyo_code_for
from transfers.acks import ACCEPTED, DUPLICATE, make_ack
from transfers.envelope import EnvelopeRejected, Identity, PartnerKeys, open_envelope
from transfers.keys import forget_cached_identity, write_identity
from transfers.models import OutboundNotice, Partner
from transfers.transport import spool

PERSON_CODE = juminhyo_code_for(1)  # the person of make_notice's notices unless a test names another
MODES = ("ack", "unavailable", "refuse", "hang", "wrong_id", "wrong_key", "empty")


class FakePartner:
    def __init__(self, code: str, ward: PartnerKeys) -> None:
        self.code = code
        self.identity = Identity.generate(code)
        self.ward = ward
        self.mode = "ack"
        self.symbol: dict[str, str] | None = None
        self.received: list[str] = []  # message ids of every envelope opened, in order
        self.release = threading.Event()
        self._lock = threading.Lock()
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, body = partner.answer(raw)
                if status:
                    self._answer(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/transfers/inbound/"

    def start(self) -> FakePartner:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def answer(self, raw: bytes) -> tuple[int, bytes]:
        try:
            opened = open_envelope(raw, self.identity, lambda code: self.ward if code == self.ward.code else None)
        except EnvelopeRejected as exc:
            return 403, json.dumps({"error": exc.code, "message": exc.message}).encode()
        header = opened.header
        with self._lock:
            duplicate = header.message_id in self.received
            self.received.append(header.message_id)
        if self.mode == "unavailable":
            return 503, b'{"error": "unavailable"}'
        if self.mode == "refuse":
            return 403, b'{"error": "unknown_sender", "message": "..."}'
        if self.mode == "hang":
            self.release.wait(10)
            return 0, b""
        if self.mode == "empty":
            return 200, b""
        if self.mode == "wrong_id":
            other = dataclasses.replace(header, message_id=str(uuid.uuid4()))
            return 200, make_ack(other, ACCEPTED, self.identity, self.ward)
        if self.mode == "wrong_key":
            return 200, make_ack(header, ACCEPTED, Identity.generate(self.code), self.ward)
        status = DUPLICATE if duplicate else ACCEPTED
        return (409 if duplicate else 200), make_ack(header, status, self.identity, self.ward, symbol=self.symbol)

    def register(self, **fields) -> Partner:
        sign_public, box_public = self.identity.public.to_b64()
        values = {"name": f"試験相手{self.code}", "transport": "http", "endpoint": self.url}
        values.update(fields)
        return Partner.objects.create(code=self.code, sign_public=sign_public, box_public=box_public, **values)


class FakeCS:
    """The other end of a spool directory: reads what we wrote, answers with ack files."""

    def __init__(self, code: str, ward: PartnerKeys, root: Path) -> None:
        self.code = code
        self.identity = Identity.generate(code)
        self.ward = ward
        self.root = root

    def register(self) -> Partner:
        sign_public, box_public = self.identity.public.to_b64()
        return Partner.objects.create(
            code=self.code,
            name="試験CS",
            transport="spool",
            spool_dir=str(self.root),
            sign_public=sign_public,
            box_public=box_public,
        )

    def answer_all(self, identity: Identity | None = None, symbol: dict[str, str] | None = None) -> list[str]:
        """Open every envelope in out/, write an ack for each to in/<id>.ack; returns the message ids."""
        answered = []
        for path in sorted((self.root / "out").glob("*.env")):
            known = lambda code: self.ward if code == self.ward.code else None  # noqa: E731
            opened = open_envelope(path.read_bytes(), self.identity, known)
            ack = make_ack(opened.header, ACCEPTED, identity or self.identity, self.ward, symbol=symbol)
            spool.write_atomically(self.root / "in" / f"{opened.header.message_id}.ack", ack)
            path.unlink()
            answered.append(opened.header.message_id)
        return answered


def person_payload(code: str = PERSON_CODE, surname: str = "試験") -> dict:
    return {"person": {"juminhyo_code": code, "surname": surname, "given_name": "花子"}, "change": {}}


def make_notice(receiver: str, code: str = PERSON_CODE, **fields) -> OutboundNotice:
    fields.setdefault("kind", "fuhyo_items")
    return OutboundNotice.objects.create(receiver=receiver, payload=person_payload(code), **fields)


@pytest.fixture(name="ward_identity_for_tests")
def ward_identity_for_tests_fixture(settings, tmp_path) -> Identity:
    """Our ward's keys for the test, written where transfers.keys reads them."""
    identity = Identity.generate(settings.WARD_LG_CODE)
    write_identity(identity, tmp_path / "ward-keys")
    settings.TRANSFERS_KEY_DIR = tmp_path / "ward-keys"
    settings.TRANSFERS_SIGN_KEY = settings.TRANSFERS_BOX_KEY = ""
    settings.TRANSFERS_HTTP_TIMEOUT = 2.0
    forget_cached_identity()
    yield identity
    forget_cached_identity()


def _server(code: str, ward: Identity):
    server = FakePartner(code, ward.public).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="partner_server")
def partner_server_fixture(ward_identity_for_tests):
    """渋谷区 (131130), answering over HTTP."""
    yield from _server("131130", ward_identity_for_tests)


@pytest.fixture(name="other_server")
def other_server_fixture(ward_identity_for_tests):
    """港区 (131032), a second HTTP partner."""
    yield from _server("131032", ward_identity_for_tests)


@pytest.fixture(name="jlis_server")
def jlis_server_fixture(ward_identity_for_tests):
    yield from _server("J-LIS", ward_identity_for_tests)


@pytest.fixture(name="fake_cs")
def fake_cs_fixture(ward_identity_for_tests, tmp_path) -> FakeCS:
    return FakeCS("J-LIS", ward_identity_for_tests.public, tmp_path / "spool")
