"""The inbound endpoint under hostile traffic: N generated messages to `POST /transfers/inbound/` of a real server.

    .venv/bin/python bench/fuzz_inbound.py [--messages 10000] [--valid 5] [--clients 4] [--web-workers 2]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--seed 1] [--timeout 1800]
        [--json-out bench/results/fuzz-inbound.json]

It starts the receiving ward (新宿区 131041) as gunicorn on a free loopback port (devtools/instances.py), with its own
database — SQLite in a temporary directory, or, with --database-url naming PostgreSQL, a scratch database on that
server (created and dropped) — its own keys, and ONE registered partner (渋谷区 131130) whose private keys this
script holds. It first sends --valid genuine notices (so that the replays have something to replay), then N hostile
messages from --clients threads, drawn by kind (KINDS): random bytes, malformed JSON (deep nesting included), bad
header fields, truncated envelopes, envelopes signed with a wrong key, unknown senders, a wrong receiver, stale
timestamps, replays (byte for byte, and re-sealed with the same message id), oversize bodies, bit-flipped fields
(also re-signed by the partner, so that only decryption fails), and genuine signatures over payloads that break the
schema (or name a kind the ward never receives). A 住民票コード or 地方公共団体コード whose last digit is not its check
digit breaks the schema like any other wrong item (bad_payload, 400); a sender or receiver in the header that is not a
地方公共団体コード with its check digit (or J-LIS) is a malformed header (400).

Checked: every hostile message gets a 4xx with its expected refusal code, none a 5xx; the server writes exactly one
`rejected` transmission audit entry for each (counted before and after, by code); the InboundNotice count grows by
the valid notices only; and a probe (GET of the login page, every second, on its own connection) keeps answering
200 — its latency is reported (max, p99). Reported: messages/s, counts per kind and per status code.

The generator (`Fuzzer`) is pure (keys and bytes, no Django) and is shared with the test suite's small version
(transfers/tests/test_fuzz_inbound.py, ~300 messages through Django's test client).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from transfers import envelope as env_module  # noqa: E402 - pure: cryptography only, no Django
from transfers.envelope import MAX_ENVELOPE_BYTES, Header, Identity, new_header, seal  # noqa: E402

WARD, PARTNER, STRANGER, OTHER_WARD = "131041", "131130", "131148", "131156"
# Valid 地方公共団体コード, none of them a registered partner: 大阪市, 横浜市, 札幌市.
STRANGERS = (STRANGER, "271004", "141003", "011002", "J-LIS")
INBOUND_PATH = "/transfers/inbound/"
PROBE_PATH = "/login/"
WINDOW_S = 300  # TRANSFERS_CLOCK_WINDOW's default; the server runs with it

# --- The generator ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    weight: int
    statuses: frozenset[int]
    codes: frozenset[str]  # the refusal codes (the audit entry's `code`; "replay" for a 409 duplicate)


def _kind(weight: int, statuses: Sequence[int], codes: Sequence[str]) -> Kind:
    return Kind(weight, frozenset(statuses), frozenset(codes))


KINDS: dict[str, Kind] = {
    "random_bytes": _kind(10, [400], ["malformed"]),
    "malformed_json": _kind(10, [400], ["malformed"]),
    "bad_header": _kind(8, [400], ["malformed"]),
    "truncated": _kind(10, [400], ["malformed"]),
    "wrong_key": _kind(10, [403], ["bad_signature"]),
    "unknown_sender": _kind(8, [403], ["unknown_sender"]),
    "wrong_receiver": _kind(6, [403], ["wrong_receiver"]),
    "stale": _kind(8, [400], ["stale"]),
    # a byte-for-byte replay is a duplicate while its timestamp is fresh, stale after the window
    "replay": _kind(8, [409, 400], ["replay", "stale"]),
    "oversize": _kind(2, [413], ["too_large"]),
    "bit_flip": _kind(10, [403], ["bad_signature"]),
    "flip_resigned": _kind(4, [403], ["undecryptable"]),
    "bad_payload": _kind(12, [400], ["bad_payload"]),
}


def juminhyo_code(rng: random.Random) -> str:
    from common.checkdigits import juminhyo_code_check_digit  # pure

    payload = f"{rng.randrange(10**10):010d}"
    return payload + str(juminhyo_code_check_digit(payload))


def wrong_check_digit(code: str, rng: random.Random) -> str:
    """`code` with its last digit replaced by any other digit: the right length, the wrong check digit."""
    return code[:-1] + str((int(code[-1]) + rng.randrange(1, 10)) % 10)


def valid_payload(code: str) -> dict[str, Any]:
    """A 戸籍の附票記載事項通知 (fuhyo_items v1) from 渋谷区: a person whose 本籍 is in this ward moved in there."""
    return {
        "person": {
            "juminhyo_code": code,
            "surname": "山田",
            "given_name": "太郎",
            "surname_kana": "ヤマダ",
            "given_name_kana": "タロウ",
            "birth_date": "1980-05-01",
            "sex": "1",
            "honseki_municipality": WARD,
            "honseki_address": "北新宿一丁目1番",
            "hittousha_name": "山田　太郎",
            "address_municipality": PARTNER,
            "address": "神南一丁目2番3号",
            "katagaki": None,
            "address_established_on": "2026-11-10",
        },
        "change": {
            "reason": "move_in",
            "change_class": "entry",
            "change_date": "2026-11-10",
            "notified_on": "2026-11-12",
            "previous_address": "東京都新宿区西新宿二丁目1番1号",
            "new_address": "東京都渋谷区神南一丁目2番3号",
        },
        "before": None,
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _flip_bit(text: str, rng: random.Random) -> str:
    data = bytearray(base64.b64decode(text))
    if not data:
        return text
    position = rng.randrange(len(data))
    data[position] ^= 1 << rng.randrange(8)
    return _b64(bytes(data))


def _stale_header(header: Header, rng: random.Random) -> Header:
    skew = dt.timedelta(seconds=WINDOW_S + rng.randrange(60, 10 * 86400))
    created = dt.datetime.now(dt.UTC) + (skew if rng.random() < 0.3 else -skew)
    return replace(header, created_at=created.isoformat(timespec="microseconds"))


def resign(envelope: dict[str, Any], signer: Identity) -> bytes:
    """The envelope with a fresh signature by `signer` over its (possibly altered) parts."""
    header = Header(**envelope["header"])
    signed = env_module.signed_bytes(
        header.canonical(),
        base64.b64decode(envelope["epk"]),
        base64.b64decode(envelope["nonce"]),
        base64.b64decode(envelope["ciphertext"]),
    )
    return env_module.canonical({**envelope, "signature": _b64(signer.sign_key.sign(signed))})


def seal_raw(header: Header, plaintext: bytes, me: Identity, to) -> bytes:
    """Like envelope.seal, but of any bytes (not JSON, a JSON list …): a genuine envelope with a bad body."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header_bytes = header.canonical()
    ephemeral = X25519PrivateKey.generate()
    epk = ephemeral.public_key().public_bytes(*env_module.RAW)
    key = env_module.message_key(ephemeral.exchange(to.box_public), epk, to.box_public.public_bytes(*env_module.RAW))
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, header_bytes)
    signature = me.sign_key.sign(env_module.signed_bytes(header_bytes, epk, nonce, ciphertext))
    envelope = {
        "v": env_module.VERSION,
        "header": header.__dict__,
        "epk": _b64(epk),
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
        "signature": _b64(signature),
    }
    return env_module.canonical(envelope)


@dataclass
class Fuzzer:
    """Hostile messages for the ward `ward` (its public keys), from the partner `partner` (its private keys)."""

    ward: Any  # PartnerKeys of the receiving ward
    partner: Identity
    rng: random.Random
    valid: list[bytes] = field(default_factory=list)  # genuine envelopes already delivered (to replay)

    def header(self, kind: str = "fuhyo_items", version: int = 1, **fields: Any) -> Header:
        return replace(new_header(kind, version, self.partner.code, self.ward.code), **fields)

    def genuine(self, payload: dict[str, Any] | None = None, header: Header | None = None) -> bytes:
        payload = payload if payload is not None else valid_payload(juminhyo_code(self.rng))
        return seal(header or self.header(), payload, self.partner, self.ward)

    def make(self, kind: str) -> bytes:
        return getattr(self, f"_{kind}")()

    def draw(self) -> tuple[str, bytes]:
        names = list(KINDS)
        kind = self.rng.choices(names, weights=[KINDS[n].weight for n in names])[0]
        return kind, self.make(kind)

    # --- one method per kind ------------------------------------------------------------------------------------

    def _random_bytes(self) -> bytes:
        size = self.rng.choice([0, 1, 2, 16, 200, 4000])
        if self.rng.random() < 0.5:
            return self.rng.randbytes(size)
        return "".join(chr(self.rng.randrange(32, 0x3100)) for _ in range(size)).encode("utf-8")

    def _malformed_json(self) -> bytes:
        depth = self.rng.choice([1000, 10_000, 100_000])
        options = [
            b"{not json",
            b"",
            b"null",
            b"[]",
            b"1",
            b'"envelope"',
            b"\xff\xfe{}",
            b"[" * depth + b"]" * depth,  # deep nesting: the JSON decoder's recursion limit
            b'{"v": ' + b"[" * depth + b"]" * depth + b"}",
            b"{" + b'"a":{' * depth + b"}" * (depth + 1),
            b'{"v": 1}',
            b'{"v": 2, "header": {}}',
            b'{"v": "1", "header": {}}',
            b'{"v": 1, "header": []}',
            b'{"v": 1e999, "header": {}}',
            b'{"v": 1, "header": {"message_id": NaN}}',
            json.dumps({"v": 1, "header": dict.fromkeys(env_module.HEADER_FIELDS, "x" * 100)}).encode(),
        ]
        return self.rng.choice(options)

    def _bad_header(self) -> bytes:
        envelope = json.loads(self.genuine())
        header = envelope["header"]
        field_name = self.rng.choice(env_module.HEADER_FIELDS)
        mutation = self.rng.choice(["drop", "extra", "type", "long", "empty", "value"])
        if mutation == "drop":
            del header[field_name]
        elif mutation == "extra":
            header["extra"] = "x"
        elif mutation == "type":
            header[field_name] = self.rng.choice([None, 1.5, [], {}, True]) if field_name != "schema_version" else "1"
        elif mutation == "long" and field_name != "schema_version":
            header[field_name] = "1" * 65
        elif mutation == "empty" and field_name != "schema_version":
            header[field_name] = ""
        else:
            header.update(
                self.rng.choice(
                    [
                        {"message_id": "not-a-uuid"},
                        {"created_at": "yesterday"},
                        {"created_at": dt.datetime.now().isoformat()},  # noqa: DTZ005 - deliberately naive
                        {"created_at": "2026-13-45T25:61:00+00:00"},
                        {"schema_version": True},
                        {"schema_version": 1.0},
                        {"sender": wrong_check_digit(PARTNER, self.rng)},  # 6 digits, wrong check digit
                        {"receiver": wrong_check_digit(WARD, self.rng)},
                        {"sender": "999999"},
                        {"sender": "x" * 64},
                    ]
                )
            )
        return env_module.canonical(envelope)

    def _truncated(self) -> bytes:
        raw = self.genuine()
        return raw[: self.rng.randrange(len(raw) - 1)]

    def _wrong_key(self) -> bytes:
        impostor = Identity(self.partner.code, Identity.generate(PARTNER).sign_key, self.partner.box_key)
        return seal(self.header(), valid_payload(juminhyo_code(self.rng)), impostor, self.ward)

    def _unknown_sender(self) -> bytes:
        stranger = Identity.generate(self.rng.choice(STRANGERS))  # well formed, but not a partner
        header = replace(self.header(), sender=stranger.code)
        return seal(header, valid_payload(juminhyo_code(self.rng)), stranger, self.ward)

    def _wrong_receiver(self) -> bytes:
        other = Identity.generate(OTHER_WARD)
        header = replace(self.header(), receiver=OTHER_WARD)
        return seal(header, valid_payload(juminhyo_code(self.rng)), self.partner, other.public)

    def _stale(self) -> bytes:
        return self.genuine(header=_stale_header(self.header(), self.rng))

    def _replay(self) -> bytes:
        if not self.valid:
            raise RuntimeError("no valid envelope to replay: deliver some first")
        original = self.rng.choice(self.valid)
        if self.rng.random() < 0.5:
            return original  # byte for byte
        message_id = json.loads(original)["header"]["message_id"]  # re-sealed: the sender's retry, or a forger's
        return self.genuine(header=self.header(message_id=message_id))

    def _oversize(self) -> bytes:
        extra = self.rng.randrange(1, 2000)
        if self.rng.random() < 0.5:
            return b"{" + b" " * (MAX_ENVELOPE_BYTES + extra) + b"}"
        envelope = json.loads(self.genuine())
        envelope["padding"] = "x" * (MAX_ENVELOPE_BYTES + extra)
        return env_module.canonical(envelope)

    def _bit_flip(self) -> bytes:
        envelope = json.loads(self.genuine())
        part = self.rng.choice(["ciphertext", "ciphertext", "signature", "epk", "nonce"])
        envelope[part] = _flip_bit(envelope[part], self.rng)
        return env_module.canonical(envelope)

    def _flip_resigned(self) -> bytes:
        """Ciphertext (or ephemeral key, or nonce) altered and signed again by the genuine partner: the signature
        holds, decryption must fail."""
        envelope = json.loads(self.genuine())
        part = self.rng.choice(["ciphertext", "ciphertext", "nonce", "epk"])
        envelope[part] = _flip_bit(envelope[part], self.rng)
        return resign(envelope, self.partner)

    def _bad_payload(self) -> bytes:
        code = juminhyo_code(self.rng)
        payload = valid_payload(code)
        choice = self.rng.randrange(14)
        if choice == 0:
            return self.genuine({})
        if choice == 1:
            del payload["person"]
        elif choice == 2:
            payload["person"]["birth_date"] = self.rng.choice(["1980/05/01", "1980-13-01", "", "昭和55年5月1日"])
        elif choice == 3:
            payload["person"] = self.rng.choice([[], "山田", 1, None])
        elif choice == 4:
            payload["change"]["reason"] = self.rng.choice([12345, None, ["move_in"]])
        elif choice == 5:
            payload["person"]["juminhyo_code"] = self.rng.choice(["1" * 10, "1" * 12, "abc", 12345678901, "1" * 1000])
        elif choice == 6:
            payload["person"]["surname"] = self.rng.choice([1, None, {}, []])
        elif choice == 7:  # a kind the ward never receives, or none at all
            kind = self.rng.choice(["ack", "jlis_fuhyo", "unknown_kind", "x" * 64])
            return self.genuine(payload, header=self.header(kind=kind))
        elif choice == 8:  # a schema version there is no file for
            version = self.rng.choice([0, 2, 99, -1, 10**20])
            return self.genuine(payload, header=self.header(version=version))
        elif choice == 9:  # a body that is not a JSON object
            body = self.rng.choice([b"[1, 2]", b'"text"', b"null", b"\xff\xfe", b"{", b"[" * 100_000])
            return seal_raw(self.header(), body, self.partner, self.ward)
        elif choice == 10:
            del payload["change"]
        elif choice == 11:  # 11 digits, but the last is not the check digit
            payload["person"]["juminhyo_code"] = wrong_check_digit(code, self.rng)
        elif choice == 12:  # 6 digits, but the last is not the check digit
            item = self.rng.choice(["honseki_municipality", "address_municipality"])
            payload["person"][item] = wrong_check_digit(payload["person"][item], self.rng)
        else:
            payload["person"]["sex"] = self.rng.choice(["男", 1, "9", None])
        return self.genuine(payload)


# --- Figures --------------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def error_code(status: int, body: bytes) -> str:
    """The refusal code of an answer: the JSON `error`, "replay" for a 409 (its body is a signed ack)."""
    if status == 409:
        return "replay"
    try:
        answer = json.loads(body)
    except ValueError:
        return ""
    return answer.get("error", "") if isinstance(answer, dict) else ""


@dataclass
class Tally:
    """What the hostile messages got, per kind: statuses and codes; the mismatches against KINDS."""

    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)
    per_kind: dict[str, Counter] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, status: int, code: str) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.codes[code] += 1
            self.per_kind.setdefault(kind, Counter())[status] += 1
            expected = KINDS[kind]
            if status not in expected.statuses or code not in expected.codes:
                if len(self.unexpected) < 50:
                    self.unexpected.append(f"{kind}: {status} {code or '(no code)'}")

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


# --- The server -------------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[fuzz-inbound {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def post(port: int, body: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", INBOUND_PATH, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Probe(threading.Thread):
    """GET of a cheap page every `interval` seconds on a connection of its own; latencies and statuses."""

    def __init__(self, port: int, interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.port, self.interval = port, interval
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("GET", PROBE_PATH)
                response = connection.getresponse()
                response.read()
                connection.close()
                self.statuses[response.status] += 1
            except OSError as exc:
                self.statuses[type(exc).__name__] += 1
            self.latencies.append(time.perf_counter() - started)


COUNT_PY = """
import json
from collections import Counter
from audit.models import AuditLogEntry
from transfers.models import InboundNotice
mark = int(__import__("os").environ.get("FUZZ_MARK", "0"))
rows = AuditLogEntry.objects.filter(pk__gt=mark, category="transmission")
codes = Counter(c.get("code", "") for c in rows.filter(action="rejected").values_list("conditions", flat=True))
actions = Counter(rows.values_list("action", flat=True))
last = AuditLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
print("E2E-RESULT " + json.dumps({"inbound": InboundNotice.objects.count(), "codes": codes, "actions": actions,
      "last": last}))
"""


def manage(env: dict[str, str], *args: str, timeout: float = 600.0, extra: dict[str, str] | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**env, **(extra or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args[:2])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def counts(env: dict[str, str], mark: int = 0) -> dict[str, Any]:
    from devtools.instances import parse_result

    out = manage(env, "shell", "--no-imports", "-v", "0", "-c", COUNT_PY, timeout=300, extra={"FUZZ_MARK": str(mark)})
    value = parse_result(out)
    if value is None:
        raise RuntimeError(f"no counts in:\n{out[-2000:]}")
    return value


def prepare(env: dict[str, str], var: Path, partner: Identity) -> Any:
    """Migrate, write the ward's keys, register the partner; returns the ward's public keys."""
    from transfers.keys import public_key_document, write_identity  # pure enough: settings are read lazily

    for folder in ("queue", "processed", "control"):
        (var / "broker" / folder).mkdir(parents=True, exist_ok=True)
    ward = Identity.generate(WARD)
    write_identity(ward, Path(env["TRANSFERS_KEY_DIR"]))
    document = var / "partner-public-key.json"
    document.write_text(json.dumps(public_key_document(partner, "渋谷区（fuzz）"), ensure_ascii=False))
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(
        env, "register_partner", str(document), "--transport=http", "--endpoint=http://127.0.0.1:9/transfers/inbound/"
    )
    return ward.public


def run(args: argparse.Namespace) -> int:  # noqa: C901, PLR0915 - one linear story
    sys.path.insert(0, str(BASE_DIR / "bench"))
    from result import Result

    from devtools.instances import (
        clean_env,
        free_port,
        gunicorn,
        instance_env,
        running,
        scratch_databases,
        wait_for_port,
    )

    result = Result(
        "fuzz-inbound",
        "受信口への敵対的なメッセージ（署名・暗号・様式・再送・大きさ）",
        parameters={
            "messages": args.messages,
            "valid": args.valid,
            "clients": args.clients,
            "web_workers": args.web_workers,
            "database": "postgresql" if (args.database_url or "").startswith("postgres") else "sqlite",
            "seed": args.seed,
            "kinds": {name: kind.weight for name, kind in KINDS.items()},
        },
    )
    rng = random.Random(args.seed)  # noqa: S311 - reproducible fuzzing, not cryptography
    partner = Identity.generate(PARTNER)
    with tempfile.TemporaryDirectory(prefix="fuzz-inbound-") as tmp:
        folder = Path(tmp)
        with scratch_databases(["ward"], folder, args.database_url, prefix="fuzzinbound") as (database_url,):
            env = instance_env(clean_env(), WARD, folder / "var", database_url, "filesystem://")
            log(f"preparing the ward ({result.parameters['database']}) …")
            ward = prepare(env, folder / "var", partner)
            fuzzer = Fuzzer(ward, partner, rng)
            port = free_port()
            web = gunicorn(env, port, folder / "web.log", workers=args.web_workers)
            with running(web):
                wait_for_port(port, 120, web)
                before = counts(env)
                mark = before["last"]
                log(f"server on 127.0.0.1:{port}; {args.valid} valid notices first")
                valid_statuses = Counter()
                for _ in range(args.valid):
                    raw = fuzzer.genuine()
                    status, _ = post(port, raw)
                    valid_statuses[status] += 1
                    if status == 200:
                        fuzzer.valid.append(raw)
                probe = Probe(port)
                probe.start()
                tally = Tally()
                failures: list[str] = []
                lock = threading.Lock()
                deadline = time.monotonic() + args.timeout
                plan = [fuzzer.draw() for _ in range(args.messages)] if args.pregenerate else None
                next_index = iter(range(args.messages))

                def worker() -> None:
                    for index in next_index:
                        if time.monotonic() > deadline:
                            return
                        with lock:  # the generator's random state is shared
                            kind, raw = plan[index] if plan else fuzzer.draw()
                        try:
                            status, body = post(port, raw)
                        except OSError as exc:
                            with lock:
                                failures.append(f"{kind}: {type(exc).__name__}: {exc}")
                            tally.add(kind, 0, type(exc).__name__)
                            continue
                        tally.add(kind, status, error_code(status, body))
                        if tally.total % 1000 == 0:
                            log(f"{tally.total} / {args.messages} sent; statuses {dict(tally.statuses)}")

                started = time.perf_counter()
                threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.clients)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=max(1.0, deadline - time.monotonic() + 60))
                elapsed = time.perf_counter() - started
                probe.stopped.set()
                probe.join(timeout=40)
                server_alive = web.alive()
                after = counts(env, mark)

            hostile = tally.total
            result.add_figure("敵対的メッセージ（送信数）", hostile, "messages", size=args.messages)
            result.add_figure("処理速度（敵対的メッセージ）", round(hostile / elapsed, 1), "messages/s", size=hostile)
            result.add_figure("所要時間", round(elapsed, 1), "s", size=hostile)
            result.add_figure("有効な通知（最初に送信）", args.valid, "notices")
            probes = probe.latencies
            result.add_figure("死活確認（ログイン画面）の回数", len(probes), "requests")
            result.add_figure("死活確認の応答時間 p50", round(percentile(probes, 50) * 1000, 1), "ms")
            result.add_figure("死活確認の応答時間 p99", round(percentile(probes, 99) * 1000, 1), "ms")
            result.add_figure("死活確認の応答時間 最大", round(max(probes, default=math.nan) * 1000, 1), "ms")
            for name in KINDS:
                got = tally.per_kind.get(name, Counter())
                result.add_figure(f"種類 {name}", sum(got.values()), "messages")
            for status, count in sorted(tally.statuses.items(), key=lambda item: str(item[0])):
                result.add_figure(f"応答 {status}", count, "messages")

            rejected = after["codes"]
            answered = {code: n for code, n in tally.codes.items() if code}
            new_inbound = after["inbound"] - before["inbound"]
            valid_ok = valid_statuses.get(200, 0)
            result.add_check("有効な通知はすべて 200（受理）", valid_ok == args.valid, f"{dict(valid_statuses)}")
            result.add_check("全件を送信した", hostile == args.messages, f"{hostile} / {args.messages}")
            result.add_check(
                "敵対的メッセージはすべて 4xx（5xx・接続エラーなし）",
                all(isinstance(s, int) and 400 <= s < 500 for s in tally.statuses),
                f"{dict(tally.statuses)}; {failures[:5]}",
            )
            result.add_check(
                "種類ごとに想定した拒否コード",
                not tally.unexpected,
                "; ".join(tally.unexpected[:10]) or "すべて想定どおり",
            )
            result.add_check(
                "拒否ごとに rejected の監査記録がちょうど一件（コード別に一致）",
                dict(rejected) == answered and sum(rejected.values()) == hostile,
                f"監査 {dict(rejected)} / 応答 {answered}",
            )
            result.add_check(
                "受信通知の増加は有効な通知の数だけ",
                new_inbound == valid_ok,
                f"{before['inbound']} → {after['inbound']}（有効 {valid_ok}）",
            )
            result.add_check(
                "死活確認はすべて 200、サーバは最後まで稼働",
                set(probe.statuses) <= {200} and len(probes) > 0 and server_alive,
                f"{dict(probe.statuses)}; alive={server_alive}",
            )
            result.add_note(
                f"受信側: gunicorn sync ×{args.web_workers}、送信 {args.clients} スレッド（ループバック）、"
                f"{result.parameters['database']}。監査記録の内訳: {dict(after['actions'])}"
            )
            result.add_note("コード別の応答: " + ", ".join(f"{c} {n}" for c, n in sorted(answered.items())))
    result.write(args.json_out)
    print(result.markdown())
    return 0 if result.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--valid", type=int, default=5, help="genuine notices sent first (the replays' originals)")
    parser.add_argument("--clients", type=int, default=4, help="sending threads")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (scratch db); default SQLite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800.0, help="stop sending after this many seconds")
    parser.add_argument("--pregenerate", action="store_true", help="draw every message before sending (more memory)")
    parser.add_argument("--json-out", default=None)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
