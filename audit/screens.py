"""The screens that write access-log entries, as declared with their views (audit.gate: `action=` and `label=`; the
staff-account screens' own decorator likewise): found by walking the URL patterns, so a screen is listed exactly
when it can be reached."""

import functools
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

from .gate import ActionName, action_name_of


def declared_screens(patterns=None) -> Iterator[tuple[URLPattern, ActionName]]:
    """Every URL pattern whose view writes access-log entries under a declared name, with that name."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from declared_screens(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and (name := action_name_of(pattern.callback)) is not None:
            yield pattern, name


@functools.cache
def declared_labels() -> dict[str, str]:
    """画面名 by access-log action name, for every declared screen."""
    return {name.action: name.label for _, name in declared_screens()}
