"""Links of keyset-paged lists: the query string of the next page and of the first one, keeping the filters."""

from collections.abc import Iterable, Mapping

from django.http import HttpRequest


def page_queries(
    request: HttpRequest,
    next_cursor: Mapping[str, object] | None,
    cursor_keys: Iterable[str],
    *,
    on_later_page: bool,
) -> tuple[str | None, str | None]:
    """(next page's query, first page's query): the request's own filters with the cursor set, or removed.
    `next_cursor` is None on the last page; the first page's link exists only when this is not the first page."""
    next_query = first_query = None
    if next_cursor:
        query = request.GET.copy()
        for key, value in next_cursor.items():
            query[key] = str(value)  # what urlencode() would have written
        next_query = query.urlencode()
    if on_later_page:
        query = request.GET.copy()
        for key in cursor_keys:
            query.pop(key, None)
        first_query = query.urlencode()
    return next_query, first_query
