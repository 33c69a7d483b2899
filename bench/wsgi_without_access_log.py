"""The product's WSGI application with no `access` entry written to the audit chain: what the second gunicorn of
bench/web_bench.py serves (`bench.wsgi_without_access_log:application`), to measure what the access log costs a
request. The skipping is the benchmark's (bench/access_log.py), not a switch of the product."""

from config.wsgi import application  # first: django.setup(), so that the audit app can be imported

# isort: split
from audit import chain
from bench.access_log import without_access_entries

__all__ = ["application"]

# audit.log calls chain.append through the module, so replacing the attribute reaches every caller.
chain.append = without_access_entries(chain.append)
