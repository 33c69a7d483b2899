"""The web benchmark's urlconf (ROOT_URLCONF of bench/settings.py): every URL of the product (config.urls), with its
error pages, plus the bare reference view under /bench/. The product's own urlconf knows nothing of the benchmark."""

from django.urls import include, path

from bench import views
from config.urls import handler400, handler403, handler404

__all__ = ["handler400", "handler403", "handler404", "urlpatterns"]

urlpatterns = [
    path("bench/bare/", views.bare, name="bench_bare"),
    path("", include("config.urls")),
]
