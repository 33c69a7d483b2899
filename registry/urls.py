"""URLs of the read-only pages of registry: 住民検索 and the 住民票 page."""

from django.urls import path

from .views.resident import resident_detail
from .views.search import resident_search

app_name = "registry"

urlpatterns = [
    path("", resident_search, name="search"),
    path("<int:resident_id>/", resident_detail, name="resident"),
]
