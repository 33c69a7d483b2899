"""The README's commands run as printed: every `manage.py` line it shows names a real command with options that
exist, the concrete ones parse, and the safe ones (help, check, a shell -c that only reads) run on a migrated scratch
database with nothing but the development .env that `make run` writes (scripts/dev_env.py)."""

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class

README = Path(settings.BASE_DIR) / "README.md"
SAFE_TO_RUN = {"help", "check", "shell"}  # read-only, quick, start no server
PLACEHOLDER = re.compile(r"^(\[\S*|\S*\]|[A-Z][A-Z_]*|\$\w+|\S*<.+>\S*)$")  # [--opt X], N, F, URL, $VAR, <本番の鍵>


def _dev_env_module():
    spec = importlib.util.spec_from_file_location("dev_env", Path(settings.BASE_DIR) / "scripts" / "dev_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def readme_command_lines(text: str) -> list[str]:
    """Each place the README shows a manage.py command: inline code spans and lines of fenced code blocks."""
    found = list(re.findall(r"`([^`\n]*manage\.py[^`\n]*)`", text))
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced and "manage.py" in line:
            found.append(line)
    return found


def tokens_after_manage_py(line: str) -> tuple[list[str], list[str]]:
    """(what stands before manage.py, the command and its arguments), shell-split, comments dropped."""
    words = shlex.split(line.replace("\\|", "|"), comments=True)
    if "manage.py" not in words:
        return words, []
    at = words.index("manage.py")
    return words[:at], words[at + 1 :]


def _options_of(name: str) -> set[str]:
    parser = load_command_class(get_commands()[name], name).create_parser("manage.py", name)
    return {option for action in parser._actions for option in action.option_strings}


def _shown_commands() -> list[tuple[str, list[str], list[str]]]:
    shown = []
    for line in readme_command_lines(README.read_text(encoding="utf-8")):
        before, argv = tokens_after_manage_py(line)
        if argv:
            shown.append((line, before, argv))
    return shown


SHOWN = _shown_commands()


def test_the_readme_shows_the_commands_this_test_walks():
    names = {argv[0] for _, _, argv in SHOWN}
    assert {"shell", "check", "migrate", "seed_dummy", "verify_audit_chain", "backup"} <= names
    assert any(argv[:2] == ["shell", "-c"] for _, _, argv in SHOWN)


@pytest.mark.parametrize(("line", "before", "argv"), SHOWN, ids=[" ".join(a)[:60] for _, _, a in SHOWN])
def test_every_shown_command_exists_with_the_options_shown(line, before, argv):
    name, args = argv[0], argv[1:]
    assert name in get_commands(), f"README の {line!r}: manage.py {name} というコマンドはありません"
    options = _options_of(name)
    shown_options = {part.strip("[]") for arg in args for part in arg.split("|") if part.strip("[]").startswith("--")}
    assert shown_options <= options, f"README の {line!r}: {sorted(shown_options - options)} は {name} にありません"
    if not any(PLACEHOLDER.match(arg) for arg in args + before):
        # A concrete line: its arguments parse exactly as typed (types, choices, required positionals).
        load_command_class(get_commands()[name], name).create_parser("manage.py", name).parse_args(args)


@pytest.fixture(scope="module")
def dev_checkout(tmp_path_factory):
    """The environment a developer has after `make run`: the generated .env and a migrated database, and nothing
    of the test run's own settings (no DJANGO_ALLOW_DEV_SECRET, no settings module, no database URL)."""
    home = tmp_path_factory.mktemp("dev")
    (home / "var").mkdir()
    _dev_env_module().ensure_dev_env(home / ".env")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "WARD_", "TEST_"))
    }
    env.update({"DJANGO_ENV_FILE": str(home / ".env"), "WARD_VAR_DIR": str(home / "var"), "PYTHONUTF8": "1"})
    migrate = _manage(env, ["migrate", "--noinput", "-v", "0"])
    assert migrate.returncode == 0, migrate.stderr
    return env


def _manage(env: dict[str, str], argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *argv],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        check=False,
    )


RUNNABLE = [
    (line, argv)
    for line, before, argv in SHOWN
    if argv[0] in SAFE_TO_RUN and not before[:-1] and not any(PLACEHOLDER.match(a) for a in argv[1:])
]


@pytest.mark.slow
def test_some_commands_are_run(dev_checkout):
    assert any(argv[:2] == ["shell", "-c"] for _, argv in RUNNABLE)


@pytest.mark.slow
@pytest.mark.parametrize(("line", "argv"), RUNNABLE, ids=[" ".join(a)[:60] for _, a in RUNNABLE])
def test_safe_commands_run_as_printed_after_make_run(dev_checkout, line, argv):
    result = _manage(dev_checkout, argv)
    assert result.returncode == 0, f"README の {line!r} が失敗しました:\n{result.stderr[-2000:]}"


@pytest.mark.slow
def test_without_the_dev_env_the_same_command_is_refused(dev_checkout):
    """What the generated .env is for: without it (and without make's DJANGO_ALLOW_DEV_SECRET) settings refuse."""
    env = {key: value for key, value in dev_checkout.items() if key != "DJANGO_ENV_FILE"}
    env["DJANGO_ENV_FILE"] = str(Path(dev_checkout["WARD_VAR_DIR"]).parent / "missing.env")
    result = _manage(env, ["check"])
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_dev_env_creates_a_private_file_with_a_fresh_key(tmp_path):
    dev_env = _dev_env_module()
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    assert dev_env.ensure_dev_env(first) == "created"
    assert dev_env.ensure_dev_env(second) == "created"
    keys = [re.search(r"^DJANGO_SECRET_KEY=(\S+)$", p.read_text(), re.MULTILINE).group(1) for p in (first, second)]
    assert keys[0] != keys[1]
    assert all(len(k) > 50 for k in keys)
    assert first.stat().st_mode & 0o777 == 0o600


def test_dev_env_keeps_an_existing_key_and_adds_a_missing_one(tmp_path):
    dev_env = _dev_env_module()
    kept = tmp_path / "kept.env"
    kept.write_text("DJANGO_SECRET_KEY=mine\n")
    assert dev_env.ensure_dev_env(kept) == "kept"
    assert kept.read_text() == "DJANGO_SECRET_KEY=mine\n"
    other = tmp_path / "other.env"
    other.write_text("DJANGO_DEBUG=true")
    assert dev_env.ensure_dev_env(other) == "key added"
    lines = other.read_text().splitlines()
    assert lines[0] == "DJANGO_DEBUG=true"
    assert lines[1].startswith("DJANGO_SECRET_KEY=dev-")
