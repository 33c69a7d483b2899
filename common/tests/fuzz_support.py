"""Shared by the fuzz tests (test_fuzz_*.py): hostile text, form data built from it, whether a message is Japanese,
and a snapshot of every table that a refused input must leave alone.

Hypothesis profile: modest example counts and no deadline (a request through the whole middleware stack takes
tens of milliseconds, more on a busy machine), so the fuzz files run in well under a minute each.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Tests that share one database across a test's examples (pytest-django's transaction per test function): fine
# here, since the property is that nothing changes. Random on a developer's machine (new inputs every run); in CI
# (CI=true, .ci/run) the same inputs every run, so that a run fails because of the change, not by the draw.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("CI", "").lower() == "true",
)
FUZZ_REQUESTS = settings(FUZZ, max_examples=6)  # per URL: there are many URLs

# Values clerks (or an attacker) might type that have broken parsers elsewhere: digits of other scripts, superscripts
# (str.isdigit() but not int()), huge numbers, 和暦 out of range, format strings, markup, control and invisible
# characters, 外字 (private use), variation sequences, supplementary-plane kanji, very long text.
SAMPLES: tuple[str, ...] = (
    "",
    " ",
    "\u3000",
    "0",
    "-1",
    "00000000000",
    "12345678901",  # 11 digits, a wrong check digit (…903 is right)
    "9" * 30,
    "²",
    "¹²³",
    "١٢٣",
    "١٢٣٤٥٦٧٨٩٠١",
    "①",
    "Ⅻ",
    "1e9999",
    "NaN",
    "None",
    "null",
    "[]",
    "{}",
    "true",
    "%s%s%s",
    "{0}{1}",
    "%(x)s",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\\",
    "../../etc/passwd",
    "\x00",
    "a\x00b",
    "\r\n",
    "\ufeff",
    "\u202e",
    "\u200b",
    "令和0年0月0日",
    "令和99年99月99日",
    "R1.4.30",
    "H31.5.1",
    "明治1年1月1日",
    "M6.1.1",
    "S64.1.8",
    "元年",
    "R元.5.1",
    "0000-00-00",
    "9999-12-31",
    "10000-01-01",
    "2024-02-30",
    "20240230",
    "99999999",
    "0001-01-01",
    "\ue000",
    "\U000f0000",
    "葛\U000e0100",
    "\U000e0100",
    "𠮷野",
    "ｶﾞｷﾞ",
    "ﾞ",
    "ゔ",
    "ヴ",
    "・",
    "ー",
    "131041",
    "13104",
    "999999",
    "J-LIS",
    "x" * 300,
    "あ" * 1000,
)


def hostile_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Any text a request can carry: samples above, arbitrary unicode (no surrogates: they cannot be sent as UTF-8),
    digits, and now and then something huge."""
    return st.one_of(
        st.sampled_from(SAMPLES),
        st.text(st.characters(codec="utf-8"), max_size=max_size),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.text(st.characters(codec="utf-8"), min_size=500, max_size=5000),
    )


def form_data(
    fields: Iterable[str],
    *,
    extra_keys: Iterable[str] = (),
    choices: dict[str, list[str]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """POST/GET data for these fields: each absent, one hostile value or several; valid choices now and then (so the
    other fields' checks are reached), and some keys the form does not know. `extra_keys` are always considered too
    (the entry screens' step, token and entry_key)."""
    choices = choices or {}
    names = list(dict.fromkeys([*fields, *extra_keys]))

    def value_for(name: str) -> st.SearchStrategy[Any]:
        options = [hostile_text(), st.lists(hostile_text(20), min_size=2, max_size=3)]
        if choices.get(name):
            options.insert(0, st.sampled_from(choices[name]))
        return st.one_of(*options)

    known = st.fixed_dictionaries({}, optional={name: value_for(name) for name in names}) if names else st.just({})
    key = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)
    unknown = st.dictionaries(key, hostile_text(20), max_size=3)
    return st.tuples(known, unknown).map(lambda pair: {**pair[1], **pair[0]})


def is_japanese(text: str) -> bool:
    """Contains kana or kanji: a message meant for the ward's clerks."""
    return any(0x3040 <= ord(ch) <= 0x30FF or 0x4E00 <= ord(ch) <= 0x9FFF or 0x3400 <= ord(ch) <= 0x4DBF for ch in text)


def error_messages(form) -> list[str]:
    """Every message of a bound form (non-field and per field), as strings."""
    return [str(message) for messages in form.errors.values() for message in messages]


# --- What a refused input must not change -----------------------------------------------------------------------

# Rows a request may write whatever its outcome: the access log and its chain, sessions, the clerk's edit locks
# (the 確認 step takes them, cancel gives them back), one-time tokens of confirmation pages, login attempts.
BOOKKEEPING = {
    "audit.auditlogentry": "every request writes its access-log entry (that is the point)",
    "audit.auditchainhead": "the head of the access log's hash chain",
    "registry.editlock": "the edit locks a screen takes when it opens (released by cancel or after the idle time)",
    "accounts.usersession": "the sessions a user holds (idle and absolute limits)",
    "sessions.session": "the test client's session",
    "axes.accessattempt": "login attempts",
    "axes.accesslog": "logins",
    "axes.accessfailurelog": "failed logins",
}
SNAPSHOT_APPS = (
    *("registry", "koseki_fuhyo", "common", "transfers", "audit", "accounts"),
    *("auditlog", "auth", "guardian", "otp_totp", "otp_static"),
)


def snapshot_models() -> list:
    from django.apps import apps

    found = []
    for config in apps.get_app_configs():
        if config.label not in SNAPSHOT_APPS:
            continue
        for model in config.get_models():
            if model._meta.label_lower in BOOKKEEPING or not model._meta.managed or model._meta.proxy:
                continue
            found.append(model)
    return sorted(found, key=lambda m: m._meta.label_lower)


def row_counts(models: list | None = None) -> dict[str, int]:
    """Rows of every table of the project's apps, django-auditlog's change history (LogEntry) and the outbox among
    them, except BOOKKEEPING. Equal before and after a refused request means it stored nothing."""
    return {m._meta.label_lower: m.objects.count() for m in (models if models is not None else snapshot_models())}


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {name: (before[name], after.get(name)) for name in before if before[name] != after.get(name)}


@contextlib.contextmanager
def counts_unchanged(models: list | None = None) -> Iterator[None]:
    """Fails when the block changed the row count of a table (see row_counts)."""
    models = models if models is not None else snapshot_models()
    before = row_counts(models)
    yield
    assert changed(before, row_counts(models)) == {}
