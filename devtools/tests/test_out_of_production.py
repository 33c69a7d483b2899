"""The development tools stay out of the product: the production settings do not install the devtools app (the
development and test settings do), no product module imports devtools or calls one of its management commands, and
the Docker image does not copy the folder.

The settings cases import the settings module in a child process: settings are read once per process."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
STRONG_SECRET = "k3Jq8vZ0-tR7yW2pL5nC9xB4mH6gF1dS0aQeUiOoPzXcVbNmLk"  # noqa: S105 - a throwaway key for a test
PRINT_APPS = "import json; from django.conf import settings; print(json.dumps(settings.INSTALLED_APPS))"
DEVTOOLS_COMMANDS = {path.stem for path in (BASE_DIR / "devtools/management/commands").glob("[!_]*.py")}


def _installed_apps(module: str) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    environment.update(
        DJANGO_SETTINGS_MODULE=module,
        DJANGO_SECRET_KEY=STRONG_SECRET,
        DJANGO_DEBUG="false",
        DJANGO_ENV_FILE=str(BASE_DIR / "no-such.env"),  # not the developer's .env
        CELERY_BROKER_URL="memory://",
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-c",
            "import json; from django.conf import settings; print(json.dumps(settings.INSTALLED_APPS))",
        ],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def _is_devtools(name: str) -> bool:
    return name == "devtools" or name.startswith("devtools.")


def test_the_production_settings_do_not_install_devtools():
    assert not [app for app in _installed_apps("config.settings_production") if _is_devtools(app)]


@pytest.mark.parametrize("module", ["config.settings", "config.settings_test"])
def test_the_development_and_test_settings_install_it(module):
    assert "devtools" in _installed_apps(module)


def test_the_commands_make_run_uses_are_devtools_commands():
    assert {"prepare_instance", "seed_dummy", "create_demo_users", "run_jlis_simulator"} <= DEVTOOLS_COMMANDS


def devtools_uses(source: str) -> list[tuple[int, str]]:
    """Imports of devtools, and call_command() of one of its commands, in a module's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if _is_devtools(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_devtools(node.module or ""):
            found.append((node.lineno, f"from {node.module} import …"))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
            "call_command",
            "import_module",
            "__import__",
        ):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if first.value in DEVTOOLS_COMMANDS or _is_devtools(first.value):
                    found.append((node.lineno, f"{ast.unparse(node.func)}({first.value!r})"))
    return found


def test_the_check_finds_each_kind_of_use():
    source = (
        "import devtools.dummy\n"
        "from devtools.instances import free_port\n"
        "from devtoolsmith import x\n"  # another package
        "from .devtools import y\n"  # a relative import inside an app
        "call_command('seed_dummy', residents=3)\n"
        "management.call_command('migrate')\n"
        "importlib.import_module('devtools.simulators.jlis')\n"
    )
    assert [line for line, _ in devtools_uses(source)] == [1, 2, 5, 7]


def _product_sources():
    """Every .py of the product's apps (the project's own apps but devtools, and config), tests excluded."""
    packages = {"config"}
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.parent == BASE_DIR and not _is_devtools(config.name):
            packages.add(config.name)
    assert {"common", "registry", "koseki_fuhyo", "transfers", "audit", "accounts"} <= packages
    for package in sorted(packages):
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            rel = path.relative_to(BASE_DIR).as_posix()
            if "/tests/" not in rel:
                yield rel, path.read_text(encoding="utf-8")


def test_no_product_module_imports_devtools_or_calls_its_commands():
    found = [f"{rel}:{line}: {what}" for rel, source in _product_sources() for line, what in devtools_uses(source)]
    assert not found, "\n".join(found)


def test_the_image_does_not_copy_devtools():
    copies = [
        line for line in (BASE_DIR / "Dockerfile").read_text(encoding="utf-8").splitlines() if line.startswith("COPY")
    ]
    assert any("config/" in line for line in copies)  # the check reads the lines that matter
    assert not [line for line in copies if "devtools" in line or line.split()[1] == "."]
