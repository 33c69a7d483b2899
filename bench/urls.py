"""Benchmark-only URLs, included under /bench/ by config/urls.py when BENCH_ENDPOINTS is on (never in production)."""

from django.urls import path

from bench import views as bench_views

urlpatterns = [
    path("bare/", bench_views.bare, name="bench_bare"),
]
