"""Settings of the web benchmark's gunicorn (bench/web_bench.py): the product's development settings
(config.settings, as `make run` uses them) with the benchmark's urlconf, which adds the bare reference view.

Nothing else differs: the access log, the middleware and the database settings are the product's. Selected with
DJANGO_SETTINGS_MODULE=bench.settings (the repository root on the path)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
