"""No QuerySet.update(), delete() or bulk_* on a model with change history (django-auditlog), outside the bulk
loader, whether through `Model.objects…`, a queryset kept in a local variable or a related manager
(`household.members`): those bypass the history (and the models' own refusal to delete), so a change would leave no
trace. The bulk loader (devtools/dummy/) builds a dummy ward from nothing. The retention purge is the one other
exception: the registers' retention services (called by audit/purge.py) delete 除票 and 除附票 past their 150 years,
together with their change history, and audit/purge.py writes an erasure record in the same transaction — the record
is its trace."""

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


# The managers a model class reaches its rows through.
MANAGERS = {"objects", "_default_manager", "_base_manager"}
# Calls that answer one row (or a plain value), not a queryset: what follows is an instance's attribute.
ROW_CALLS = {"get", "first", "last", "earliest", "latest", "create", "get_or_create", "update_or_create", "count"}


def _related_accessors(audited: set[str]) -> dict[str, str]:
    """`household.members` → "Resident": the reverse and many-to-many accessors that hand out a queryset of an
    audited model (a related manager's update() bypasses the history just as the model's own manager's does)."""
    from django.apps import apps

    found = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if (field.one_to_many or field.many_to_many) and field.related_model.__name__ in audited:
                found[field.get_accessor_name() if field.auto_created else field.name] = field.related_model.__name__
    return found


def _queryset_model(node: ast.AST, audited: set[str], names: dict[str, str], accessors: dict[str, str]) -> str | None:
    """The audited model whose rows an expression is a queryset of: walk down the receiver chain to `<Model>.objects`,
    a related accessor (`household.members`), or a local name assigned such a queryset (`qs = Model.objects…`)."""
    while True:
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr in ROW_CALLS:
                return None
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Attribute):
            if node.attr in MANAGERS and isinstance(node.value, ast.Name):
                return node.value.id if node.value.id in audited else None
            if node.attr in accessors:
                return accessors[node.attr]
            node = node.value
        elif isinstance(node, ast.Name):
            return names.get(node.id)
        else:
            return None


def _scopes(tree: ast.Module) -> list[ast.AST]:
    return [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))]


def _own_nodes(scope: ast.AST):
    """The nodes of a module or function, in source order, without those of the functions defined inside it."""
    todo = list(reversed(list(ast.iter_child_nodes(scope))))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            todo.extend(reversed(list(ast.iter_child_nodes(node))))


def offending_calls(source: str, audited: set[str], accessors: dict[str, str] | None = None) -> list[tuple[int, str]]:
    accessors = accessors or {}
    found = []
    for scope in _scopes(ast.parse(source)):
        names: dict[str, str] = {}  # local name → the audited model of the queryset assigned to it
        for node in _own_nodes(scope):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                model = _queryset_model(node.value, audited, names, accessors)
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        if model:
                            names[target.id] = model
                        else:
                            names.pop(target.id, None)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITES:
                model = _queryset_model(node.func.value, audited, names, accessors)
                if model:
                    found.append((node.lineno, f"{model}.objects…{node.func.attr}()"))
    return sorted(found)


def test_the_check_catches_a_bulk_write():
    audited = {"Resident"}
    assert offending_calls("Resident.objects.filter(pk=1).update(surname='x')", audited) == [
        (1, "Resident.objects…update()")
    ]
    assert offending_calls("Resident.objects.bulk_create([])", audited) == [(1, "Resident.objects…bulk_create()")]
    assert offending_calls("Resident.objects.filter(pk=1).delete()", audited) == [(1, "Resident.objects…delete()")]
    assert offending_calls("EditLock.objects.filter(pk=1).update(x=1)", audited) == []


PLANTED_QUERYSET_UPDATE = """
def rename(pk):
    rows = Resident.objects.filter(pk=pk)
    current = rows.exclude(status="removed")[:10]
    current.update(surname="x")


def tidy(household):
    household.members.filter(status="current").delete()
    Resident._base_manager.filter(pk=1).update(surname="y")


def harmless(resident, values):
    rows = Resident.objects.filter(pk=1)
    rows = list(rows)
    values.update(surname="z")
    Resident.objects.get(pk=1).details.update(note="")
    locks = EditLock.objects.filter(pk=1)
    locks.update(x=1)


def elsewhere(rows):
    rows.update(x=1)  # a parameter: another function's `rows` says nothing about this one
"""


def test_the_check_catches_an_update_through_a_queryset_variable_or_a_related_manager():
    assert offending_calls(PLANTED_QUERYSET_UPDATE, {"Resident"}, {"members": "Resident"}) == [
        (5, "Resident.objects…update()"),
        (9, "Resident.objects…delete()"),
        (10, "Resident.objects…update()"),
    ]


def test_no_bulk_write_on_audited_models():
    audited = _audited_names()
    accessors = _related_accessors(audited)
    offences = [
        f"{path}:{line} {call}"
        for path, source in _sources()
        for line, call in offending_calls(source, audited, accessors)
    ]
    assert offences == [], "these bypass the change history:\n" + "\n".join(offences)
