"""/favicon.ico, which browsers ask for on every site, answers with our own icon instead of a 404."""

import pytest
from django.conf import settings
from django.test import Client


def test_the_favicon_is_served_from_our_static_files():
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].startswith(settings.STATIC_URL)
    assert response["Location"].split("?")[0].endswith(".svg")
    icon = settings.BASE_DIR / "static" / "favicon.svg"
    assert icon.read_text(encoding="utf-8").startswith("<svg")


@pytest.mark.django_db
def test_every_page_names_the_icon(client):
    body = client.get("/login/").content.decode()
    assert 'rel="icon"' in body
    assert "favicon.svg" in body
