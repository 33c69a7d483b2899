"""URLs of the read-only pages of koseki_fuhyo (screens are added by the clerk-desk work, issue 3)."""

from django.urls import path  # noqa: F401 - patterns are added here

app_name = "koseki_fuhyo"

urlpatterns: list = []
