"""戸籍検索 (koseki_fuhyo:search): the form and one page of results, newest 戸籍 first. The query is
koseki_fuhyo/search.py, the form koseki_fuhyo/search_forms.py."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit.gate import personal_data_view

from ..search import PAGE_SIZE, search_koseki
from ..search_forms import KosekiSearchForm


@personal_data_view(
    "koseki_fuhyo.view_koseki", subject_kind="koseki", action="search.koseki_search", label="戸籍・附票の検索"
)
def koseki_search(request: HttpRequest, access) -> HttpResponse:
    form = KosekiSearchForm(request.GET or None)
    lines, next_after, searched = [], None, False
    if form.is_bound and form.is_valid() and not form.to_query().is_empty():
        query = form.to_query()
        after = request.GET.get("after", "")
        after_id = int(after) if after.isdigit() else None
        rows, next_after, masked = search_koseki(query, user=request.user, after=after_id, limit=PAGE_SIZE)
        searched = True
        access.conditions = {**query.as_conditions(), **({"after": after_id} if after_id else {})}
        access.show(rows)
        if masked:  # a masked hit: the nightly analysis reports who searched for a restricted 筆頭者
            access.conditions["masked_hits"] = sorted(masked)
        # The 筆頭者 is a person too: a restricted 筆頭者 masks the whole line (name and 本籍).
        lines = [{"koseki": k, "visible": k.pk not in masked} for k in rows]
    elif form.is_bound and form.errors:
        access.conditions = {"invalid": sorted(form.errors)}
    next_query = None
    if next_after:
        params = request.GET.copy()
        params["after"] = str(next_after)
        next_query = params.urlencode()
    first_query = None
    if request.GET.get("after"):
        params = request.GET.copy()
        params.pop("after")
        first_query = params.urlencode()
    return render(
        request,
        "koseki_fuhyo/search.html",
        {"form": form, "lines": lines, "searched": searched, "next_query": next_query, "first_query": first_query},
    )
