"""The receiving end for partner systems: POST /transfers/inbound/ with an envelope as the body.

No login and no CSRF token: the caller is a machine, and what authenticates it is the signature of a registered
partner, checked by transfers.inbound.receive. The answer carries no personal data: a signed ack, or an error
code with a Japanese message.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt

from ..envelope import MAX_ENVELOPE_BYTES
from ..inbound import receive


def _body(request: HttpRequest) -> bytes:
    """At most one byte more than an envelope may have: enough to refuse a larger one without reading it all."""
    try:
        return request.read(MAX_ENVELOPE_BYTES + 1)
    except RawPostDataException:
        return request.body[: MAX_ENVELOPE_BYTES + 1]


@csrf_exempt
def inbound(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = JsonResponse(
            {"error": "method_not_allowed", "message": "通知は POST で送ってください。"},
            status=405,
            json_dumps_params={"ensure_ascii": False},
        )
        response["Allow"] = "POST"
        return response
    reply = receive(_body(request), via="http", request=request)
    return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
