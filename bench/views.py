"""The reference of the web benchmark (bench/web_bench.py): a view that returns a constant, served by the same
gunicorn and middleware as every page, so that our pages' throughput can be read as a fraction of the framework's.

Mounted by config/urls_bench.py only when BENCH_ENDPOINTS is on (config.settings_production refuses it); the view
answers 404 as well if the setting is off, should it ever be mounted by mistake. Shows no data."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

BARE_BODY = b"ok\n"


def bare(request: HttpRequest) -> HttpResponse:
    if not getattr(settings, "BENCH_ENDPOINTS", False):
        raise Http404("not found")
    return HttpResponse(BARE_BODY, content_type="text/plain; charset=utf-8")
