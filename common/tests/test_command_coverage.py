"""Every management command of the project has a test that calls it (NetBox's idea): a command nobody tests is a
batch job nobody knows still works."""

from pathlib import Path

import pytest
from django.conf import settings

APPS = ("common", "registry", "koseki_fuhyo", "transfers", "audit", "operations")


def _commands() -> list[str]:
    names = []
    for app in APPS:
        folder = settings.BASE_DIR / app / "management" / "commands"
        names += [p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")] if folder.exists() else []
    return sorted(names)


def _test_sources() -> str:
    root: Path = settings.BASE_DIR
    return "\n".join(p.read_text(encoding="utf-8") for app in APPS for p in (root / app).glob("tests/**/test_*.py"))


@pytest.mark.parametrize("command", _commands())
def test_command_is_called_by_a_test(command):
    sources = _test_sources()
    assert f'"{command}"' in sources or f"'{command}'" in sources, f"no test calls manage.py {command}"
