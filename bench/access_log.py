"""The benchmark's way of measuring a request without its access-log entry (the "log-off" phase of
bench/web_bench.py): audit.chain.append wrapped so that entries of category `access` are skipped. The product has no
switch for it; bench/wsgi_without_access_log.py applies the wrapper in a gunicorn of the benchmark's own."""

from collections.abc import Callable
from typing import Any

ACCESS = "access"  # audit.models.AuditLogEntry.Category.ACCESS (checked by bench/tests/test_bench_urls.py)


def without_access_entries(append: Callable[..., Any]) -> Callable[..., Any]:
    """`append` (audit.chain.append) that skips the entries of category `access`, returning None for them as
    audit.log.record_access then does. Every other entry (logins, permissions, transmissions) is written."""

    def append_except_access(**fields: Any) -> Any:
        if fields.get("category") == ACCESS:
            return None
        return append(**fields)

    return append_except_access
