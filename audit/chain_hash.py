"""The hash of one audit-chain entry: which fields it covers and their canonical form. Without Django, so that a
loader outside the application (bench/batch_bench.py, which writes millions of entries by COPY) hashes exactly as
audit.chain does; audit.chain imports both names from here."""

import hashlib
import json
from typing import Any

HASHED_FIELDS = (
    "occurred_at",
    "category",
    "action",
    "outcome",
    "user_id",
    "username",
    "remote_addr",
    "session_hash",
    "request_id",
    "method",
    "path",
    "subject_kind",
    "subject_ids",
    "conditions",
    "prev_hash",
)


def content_hash(values: dict[str, Any]) -> str:
    canonical = json.dumps(
        {name: values[name] for name in HASHED_FIELDS},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
