"""The README's role tables say what common/roles.py grants (issue 12, finding 6): 「画面と権限」 names, for each
screen, the permission it needs and the roles that hold it; 「デモ用ログイン」 names each demo login's role and what it
can do (the role's description, word for word). Any disagreement between the two files fails here, so the README
cannot promise a role less (or more) than it gets."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

from common.roles import ROLES, Role
from devtools.management.commands.create_demo_users import DEMO_USERS

README = Path(settings.BASE_DIR) / "README.md"
ROLE_NAMES = {role.group_name: role for role in ROLES}
PERMISSION = re.compile(r"`([a-z_]+\.[a-z_]+)`")
EVERYONE = "ログインした職員すべて"


def section(text: str, title: str) -> list[str]:
    """The lines under the heading `title` (## or ###), up to the next heading of the same or a higher level."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"(#+) (.*)$", line)
        if match and match[2].strip() == title:
            level = len(match[1])
            body = []
            for following in lines[index + 1 :]:
                heading = re.match(r"(#+) ", following)
                if heading and len(heading[1]) <= level:
                    break
                body.append(following)
            return body
    raise AssertionError(f"README に「{title}」の節がありません")


def table(lines: list[str]) -> list[list[str]]:
    """The rows of the first markdown table in `lines` (header and separator left out), cells stripped."""
    rows = [line for line in lines if line.startswith("|")]
    assert len(rows) > 2, "table not found"
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows[2:]]


def permissions_of(role: Role) -> set[str]:
    views = {f"{model._meta.app_label}.view_{model._meta.model_name}" for model in role.models()}
    return views | set(role.entry_permissions)


def roles_named(cell: str) -> set[str]:
    """The roles in the first （…） of a cell, separated by ・."""
    match = re.search(r"（([^）]*)）", cell)
    assert match, f"役割が（）で書かれていません: {cell!r}"
    names = set(match[1].split("・"))
    unknown = names - ROLE_NAMES.keys()
    assert not unknown, f"{cell!r}: roles.py にない役割 {unknown}"
    return names


def holders(cell: str) -> set[str]:
    """The roles that may open the screen: 「、」 separates parts of a screen (any part opens it for a role), the
    permissions within one part are all needed (「と」)."""
    parts = [PERMISSION.findall(part) for part in cell.split("、")]
    parts = [part for part in parts if part]
    return {role.group_name for role in ROLES if any(set(part) <= permissions_of(role) for part in parts)}


def screen_rows() -> list[tuple[str, str, str]]:
    return [(row[0], row[1], row[2]) for row in table(section(README.read_text(encoding="utf-8"), "画面と権限"))]


def test_every_screen_row_agrees_with_roles_py():
    problems = []
    previous = None
    for screen, url, cell in screen_rows():
        if cell.startswith("同上"):
            assert previous is not None, f"{screen}: 「同上」の前の行がありません"
            cell = previous
        previous = cell
        if PERMISSION.search(cell):
            said, granted = roles_named(cell), holders(cell)
        elif cell == EVERYONE:
            continue
        elif url == "`/admin/`":
            said, granted = roles_named(f"（{cell}）"), {r.group_name for r in ROLES if r.is_staff}
        else:
            problems.append(f"{screen}: 権限の欄を読めません: {cell!r}")
            continue
        if said != granted:
            problems.append(f"{screen}（{url}）: README は {sorted(said)}、roles.py では {sorted(granted)}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_every_permission_named_exists_in_a_role_or_model():
    from django.contrib.auth.models import Permission

    for screen, _, cell in screen_rows():
        for code in PERMISSION.findall(cell):
            app_label, codename = code.split(".")
            assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), (
                f"{screen}: {code} という権限はありません"
            )


@pytest.mark.parametrize("row", screen_rows(), ids=lambda row: row[1])
def test_every_url_of_the_table_exists(row):
    url = re.sub(r"<[^>]+>", "1", row[1].strip("`"))
    try:
        resolve(url)
    except Resolver404:
        pytest.fail(f"{row[0]}: {url} に画面がありません")


def test_the_demo_logins_are_the_roles_of_roles_py():
    rows = table(section(README.read_text(encoding="utf-8"), "デモ用ログイン"))
    by_name = {row[0].strip("`"): row for row in rows}
    assert set(by_name) == {demo.username for demo in DEMO_USERS}
    for demo in DEMO_USERS:
        _, password, role_cell, can_do = by_name[demo.username]
        assert password.strip("`") == demo.password, demo.username
        assert role_cell.startswith(demo.role.group_name), f"{demo.username}: {role_cell} ≠ {demo.role.group_name}"
        assert can_do == demo.role.description, (
            f"{demo.username}: 「できること」は roles.py の説明と同じに: {demo.role.description}"
        )


def test_the_parser_sees_a_disagreement():
    """A row that gives the operator a register screen is caught (the test above could not fail otherwise)."""
    assert holders("`registry.view_resident`（窓口担当・戸籍担当・監督者・運用担当）") != roles_named(
        "`registry.view_resident`（窓口担当・戸籍担当・監督者・運用担当）"
    )
    assert holders("一覧 `audit.view_analysisflag`、確認 `audit.review_analysisflag`（監督者）") == {"監督者"}
