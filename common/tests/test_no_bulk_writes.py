"""No QuerySet.update(), delete() or bulk_* on a model with change history (django-auditlog), outside the bulk
loader: those bypass the history (and the models' own refusal to delete), so a change would leave no trace. The bulk
loader (devtools/dummy/) builds a dummy ward from nothing. The retention purge is the one other exception: the
registers' retention services (called by audit/purge.py) delete 除票 and 除附票 past their 150 years, together with
their change history, and audit/purge.py writes an erasure record in the same transaction — the record is its
trace."""

import ast
from pathlib import Path

from auditlog.registry import auditlog
from django.conf import settings

APPS = ("common", "registry", "koseki_fuhyo", "transfers", "audit", "operations", "config")
BULK_LOADER = ("devtools/dummy/", "devtools/management/commands/seed_dummy.py")
# The retention purge: the only deletions of register rows, each with its ErasureRecord (docs/retention.md).
PURGE_SERVICE = ("registry/services/retention.py", "koseki_fuhyo/services/retention.py")
WRITES = {"update", "delete", "bulk_create", "bulk_update"}


def _audited_names() -> set[str]:
    return {model.__name__ for model in auditlog.get_models()}


def _sources():
    root: Path = settings.BASE_DIR
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            rel = path.relative_to(root).as_posix()
            if "/tests/" in rel or "/migrations/" in rel or rel.startswith(BULK_LOADER + PURGE_SERVICE):
                continue
            yield rel, path.read_text(encoding="utf-8")


def _receiver_model(node: ast.AST) -> str | None:
    """`Model.objects.filter(...).update()` → "Model": walk down the receiver chain to `<Name>.objects`."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            if node.attr == "objects" and isinstance(node.value, ast.Name):
                return node.value.id
            node = node.value
        else:
            return None


def offending_calls(source: str, audited: set[str]) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITES:
            model = _receiver_model(node.func.value)
            if model in audited:
                found.append((node.lineno, f"{model}.objects…{node.func.attr}()"))
    return found


def test_the_check_catches_a_bulk_write():
    audited = {"Resident"}
    assert offending_calls("Resident.objects.filter(pk=1).update(surname='x')", audited) == [
        (1, "Resident.objects…update()")
    ]
    assert offending_calls("Resident.objects.bulk_create([])", audited) == [(1, "Resident.objects…bulk_create()")]
    assert offending_calls("Resident.objects.filter(pk=1).delete()", audited) == [(1, "Resident.objects…delete()")]
    assert offending_calls("EditLock.objects.filter(pk=1).update(x=1)", audited) == []


def test_no_bulk_write_on_audited_models():
    audited = _audited_names()
    offences = [
        f"{path}:{line} {call}" for path, source in _sources() for line, call in offending_calls(source, audited)
    ]
    assert offences == [], "these bypass the change history:\n" + "\n".join(offences)
