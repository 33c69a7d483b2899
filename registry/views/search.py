"""住民検索 (registry:search): the form and one page of results. Works without JavaScript; with htmx only the
search area is replaced."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit.gate import personal_data_view

from ..forms.search import ResidentSearchForm
from ..search import PAGE_SIZE, ResultPage, search_residents


@personal_data_view(
    "registry.view_resident", subject_kind="resident", action="search.resident_search", label="住民検索"
)
def resident_search(request: HttpRequest, access) -> HttpResponse:
    form = ResidentSearchForm(request.GET or None)
    page = ResultPage()
    searched = False
    lines = []
    if form.is_bound and form.is_valid() and not form.to_query().is_empty():
        query = form.to_query()
        after = _positive_int(request.GET.get("after"))
        page = search_residents(query, user=request.user, after=after, limit=PAGE_SIZE)
        searched = True
        access.conditions = {**query.as_conditions(), **({"after": after} if after else {})}
        access.show(page.rows)  # every row on the page, masked or not
        if page.masked:  # a masked hit: the nightly analysis reports who searched for a restricted person
            access.conditions["masked_hits"] = sorted(page.masked)
        lines = [{"resident": r, "visible": r.pk not in page.masked} for r in page.rows]
    elif form.is_bound and form.errors:
        access.conditions = {"invalid": sorted(form.errors)}
    context = {
        "form": form,
        "lines": lines,
        "searched": searched,
        "next_query": _next_query(request, page.next_after),
        "first_query": _first_query(request) if request.GET.get("after") else None,
    }
    return render(request, "registry/search.html", context)


def _positive_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and int(value) > 0 else None


def _next_query(request: HttpRequest, after: int | None) -> str | None:
    if after is None:
        return None
    params = request.GET.copy()
    params["after"] = str(after)
    return params.urlencode()


def _first_query(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("after", None)
    return params.urlencode()
