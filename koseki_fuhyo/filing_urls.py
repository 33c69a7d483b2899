"""URLs of 戸籍届出 entry (届出受付: form → 確認 → 記録)."""

from django.urls import path  # noqa: F401 - patterns are added here

app_name = "koseki_filings"

urlpatterns: list = []
