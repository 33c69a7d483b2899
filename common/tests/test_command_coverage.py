"""Every management command of the project has a test that runs it (NetBox's test_management_command_coverage idea):
a command nobody tests is a batch job nobody knows still works.

A test module covers a command when, read as Python (ast), it
- calls `call_command("<name>", …)` with the command's exact name as the first argument, or through a helper of the
  same module that passes its own parameter on to call_command (`def run(name, *args): call_command(name, …)` and
  then `run("backup")`), or
- imports the command's module (`from audit.management.commands import backup`,
  `from audit.management.commands.backup import Command`, `import audit.management.commands.backup`).
The name in a string, a comment or a docstring does not count."""

import ast
import functools
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import find_commands


def _project_apps() -> list:
    """The apps of this repository (their package is a folder at its top), not Django's or third parties'."""
    root = Path(settings.BASE_DIR).resolve()
    return [config for config in apps.get_app_configs() if Path(config.path).resolve().parent == root]


def _commands() -> dict[str, str]:
    """Command name → its module, for every app of the project."""
    found = {}
    for config in _project_apps():
        for name in find_commands(str(Path(config.path) / "management")):
            found[name] = f"{config.name}.management.commands.{name}"
    return dict(sorted(found.items()))


def _test_modules() -> list[Path]:
    root = Path(settings.BASE_DIR)
    paths = [p for config in _project_apps() for p in Path(config.path).glob("tests/**/test_*.py")]
    return sorted({*paths, *root.glob("e2e/test_*.py")})


def _called_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _string_at(call: ast.Call, position: int) -> str | None:
    if len(call.args) > position and isinstance(call.args[position], ast.Constant):
        value = call.args[position].value
        return value if isinstance(value, str) else None
    return None


def _runners(tree: ast.Module) -> dict[str, int]:
    """call_command itself (name at position 0), and each function of the module that passes one of its parameters
    on as call_command's first argument: function name → the position of that parameter."""
    runners = {"call_command": 0}
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = [arg.arg for arg in func.args.posonlyargs + func.args.args]
        for node in ast.walk(func):
            if (
                isinstance(node, ast.Call)
                and _called_name(node.func) == "call_command"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in params
            ):
                runners[func.name] = params.index(node.args[0].id)
    return runners


def covered(source: str, commands: dict[str, str]) -> set[str]:
    """The commands a test module's source runs or imports (see the module's docstring)."""
    tree = ast.parse(source)
    runners = _runners(tree)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node.func) in runners:
            name = _string_at(node, runners[_called_name(node.func)])
            if name in commands:
                found.add(name)
        elif isinstance(node, ast.Import):
            found |= {name for name, module in commands.items() if any(a.name == module for a in node.names)}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported = {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            found |= {name for name, module in commands.items() if module in imported}
    return found


@functools.cache
def _covered_by_tests() -> frozenset[str]:
    commands = _commands()
    found: set[str] = set()
    for path in _test_modules():
        found |= covered(path.read_text(encoding="utf-8"), commands)
    return frozenset(found)


def test_the_project_has_commands():
    assert {"seed_dummy", "backup", "load_municipalities", "send_pending_notifications"} <= _commands().keys()


@pytest.mark.parametrize("command", list(_commands()))
def test_command_is_run_by_a_test(command):
    assert command in _covered_by_tests(), (
        f"no test runs manage.py {command}: call_command({command!r}, …) or import {_commands()[command]}"
    )


PLANTED = '''
"""This module mentions backup and "restore_check" in its docstring."""
from django.core.management import call_command
from django.core import management
from audit.management.commands import purge_expired
from audit.management.commands.seal_audit_chain import Command
import transfers.management.commands.register_partner

NAMES = ["print_db_grants", "verify_audit_chain"]  # strings alone cover nothing


def run(name, *args):
    return call_command(name, *args)


def other(value):
    return str(value)


def test_it():
    call_command("seed_dummy", "--residents", "3")
    management.call_command("load_municipalities")
    run("jlis_bulk_export")
    other("generate_ward_keys")
    call_command(NAMES[0])
    # call_command("export_public_key")
'''


def test_coverage_is_read_from_calls_and_imports_not_from_strings():
    commands = {
        name: f"app.management.commands.{name}"
        for name in (
            "backup",
            "restore_check",
            "print_db_grants",
            "verify_audit_chain",
            "seed_dummy",
            "load_municipalities",
            "jlis_bulk_export",
            "generate_ward_keys",
            "export_public_key",
        )
    }
    commands |= {
        "purge_expired": "audit.management.commands.purge_expired",
        "seal_audit_chain": "audit.management.commands.seal_audit_chain",
        "register_partner": "transfers.management.commands.register_partner",
    }
    assert covered(PLANTED, commands) == {
        "purge_expired",
        "seal_audit_chain",
        "register_partner",
        "seed_dummy",
        "load_municipalities",
        "jlis_bulk_export",
    }
