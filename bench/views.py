"""The reference of the web benchmark (bench/web_bench.py): a view that returns a constant, served by the same
gunicorn and middleware as every page, so that our pages' throughput can be read as a fraction of the framework's.

Mounted only by the benchmark's own urlconf (bench/urls.py, selected by bench/settings.py); the product's URLs never
contain it. Shows no data."""

from django.http import HttpRequest, HttpResponse

BARE_BODY = b"ok\n"


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BARE_BODY, content_type="text/plain; charset=utf-8")
