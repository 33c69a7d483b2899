"""The access-log names of the screens are declared with their views (`action=`, `label=`), never derived from the
module or the function: one name per screen, none shared, none missing."""

from collections import defaultdict

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.urls import get_resolver, path

from audit.gate import ACTION_PATTERN, action_name_of, gate_of, personal_data_view
from audit.labels import OPERATION_LABELS
from audit.screens import declared_screens
from audit.views.log import FILTERED_EVENTS, known_actions


def _shared_names(patterns=None) -> dict[str, list[str]]:
    """Names declared by more than one view (one view mounted at several URLs declares its name once)."""
    views = defaultdict(dict)
    for pattern, name in declared_screens(patterns):
        views[name.action][id(pattern.callback)] = f"{pattern.callback.__module__}.{pattern.callback.__qualname__}"
    return {action: sorted(found.values()) for action, found in views.items() if len(found) > 1}


def _all_patterns(patterns):
    for pattern in patterns:
        yield from _all_patterns(pattern.url_patterns) if hasattr(pattern, "url_patterns") else [pattern]


def test_no_two_screens_share_an_access_log_name():
    assert _shared_names() == {}, "give each screen an access-log name of its own (action= on its decorator)"


def test_every_gated_view_declares_its_access_log_name():
    gated = [p for p in _all_patterns(get_resolver().url_patterns) if gate_of(p.callback) is not None]
    assert len(gated) > 50
    undeclared = [str(p.pattern) for p in gated if action_name_of(p.callback) is None]
    assert undeclared == []
    assert [str(p.pattern) for p in gated if gate_of(p.callback).action != action_name_of(p.callback).action] == []
    assert all(ACTION_PATTERN.fullmatch(action_name_of(p.callback).action) for p in gated)


def test_the_staff_account_screens_declare_their_names_too():
    names = {name.action for _, name in declared_screens()}
    assert {"views.user_list", "views.user_detail", "views.user_action", "views.lock_lift"} <= names


def test_the_check_catches_two_views_with_one_name():
    @personal_data_view("registry.view_resident", subject_kind="resident", action="tests.same", label="試験")
    def first(request, access):
        return HttpResponse("")

    @personal_data_view("registry.view_resident", subject_kind="resident", action="tests.same", label="試験")
    def second(request, access):
        return HttpResponse("")

    assert _shared_names([path("a/", first), path("b/", first)]) == {}
    assert list(_shared_names([path("a/", first), path("b/", second)])) == ["tests.same"]


def test_a_gated_view_cannot_go_without_a_name():
    with pytest.raises(TypeError):
        personal_data_view("registry.view_resident", subject_kind="resident")
    with pytest.raises(TypeError):
        personal_data_view("registry.view_resident", subject_kind="resident", action="search.resident_search")
    for action, label in [("", "住民検索"), ("resident_search", "住民検索"), ("Search.Resident", "住民検索")]:
        with pytest.raises(ImproperlyConfigured):
            personal_data_view("registry.view_resident", subject_kind="resident", action=action, label=label)
    with pytest.raises(ImproperlyConfigured):
        personal_data_view("registry.view_resident", subject_kind="resident", action="search.x", label=" ")


def test_the_log_filter_offers_every_name_with_its_label():
    offered = dict(known_actions())
    assert offered["search.resident_search"] == "住民検索"
    assert offered["views.user_list"] == "職員アカウント"
    assert all(offered[event] == OPERATION_LABELS[event] for event in FILTERED_EVENTS)
    assert all(label.strip() for label in offered.values())
