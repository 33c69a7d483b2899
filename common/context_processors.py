from django.http import HttpRequest

from . import municipalities
from .menu import header_menu, menu_for


def ward(request: HttpRequest) -> dict:
    """Puts this instance's ward (名称 and 地方公共団体コード) into every template as WARD."""
    return {"WARD": municipalities.ward_or_none()}


def menu(request: HttpRequest) -> dict:
    """The main menu entries this user may open (common/menu.py): MENU for the home page, HEADER_MENU (with the
    drop-down groups) for the header."""
    items = menu_for(request)
    return {"MENU": items, "HEADER_MENU": header_menu(items)}
