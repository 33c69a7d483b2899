"""URLs of the pages of registry: 住民検索, the 住民票 page and the 住民票・附票 不一致 tasks."""

from django.urls import path

from .views.discrepancies import discrepancy_detail, discrepancy_list
from .views.resident import resident_detail
from .views.search import resident_search

app_name = "registry"

urlpatterns = [
    path("", resident_search, name="search"),
    path("<int:resident_id>/", resident_detail, name="resident"),
    path("discrepancies/", discrepancy_list, name="discrepancies"),
    path("discrepancies/<int:discrepancy_id>/", discrepancy_detail, name="discrepancy"),
]
