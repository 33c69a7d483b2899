from django.http import HttpRequest

from . import municipalities


def ward(request: HttpRequest) -> dict:
    """Puts this instance's ward (名称 and 地方公共団体コード) into every template as WARD."""
    return {"WARD": municipalities.ward_or_none()}
