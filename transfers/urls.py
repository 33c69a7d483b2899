from django.urls import path

from .views import inbound

app_name = "transfers"

urlpatterns = [
    path("inbound/", inbound.inbound, name="inbound"),
]
