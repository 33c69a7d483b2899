from django.http import HttpRequest

from . import municipalities
from .menu import menu_for


def ward(request: HttpRequest) -> dict:
    """Puts this instance's ward (名称 and 地方公共団体コード) into every template as WARD."""
    return {"WARD": municipalities.ward_or_none()}


def menu(request: HttpRequest) -> dict:
    """The main menu entries this user may open (common/menu.py)."""
    return {"MENU": menu_for(request)}
