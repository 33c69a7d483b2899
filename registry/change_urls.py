"""URLs of 異動 entry (form → 確認 → 記録)."""

from django.urls import path  # noqa: F401 - patterns are added here

app_name = "registry_changes"

urlpatterns: list = []
