"""URLs of the read-only pages of koseki_fuhyo: 戸籍検索 and the 戸籍・附票 page."""

from django.urls import path

from .views.koseki import koseki_detail
from .views.search import koseki_search

app_name = "koseki_fuhyo"

urlpatterns = [
    path("", koseki_search, name="search"),
    path("<int:koseki_id>/", koseki_detail, name="koseki"),
]
