"""HTTP adapter: POST the envelope to the partner's receiving endpoint (this system: /transfers/inbound/).

200 and 409 carry the signed acknowledgement in the body (409: the message id was already stored — a redelivery,
which completes like a first delivery). Any other answer, a refused connection or a timeout raises TransportError.
Redirects are not followed (a POST must reach the endpoint registered for the partner) and no proxy from the
environment is used: the partners are reached directly over the closed network.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from django.conf import settings

from ..envelope import MAX_ENVELOPE_BYTES
from .base import TransportError

if TYPE_CHECKING:
    from ..models import Partner

ACK_STATUSES = (200, 409)
# Answers that sending the same message again may cure: the partner is busy, down, or was reached too early.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201 - urllib's signature
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _refusal_code(body: bytes) -> str:
    """The stable error code of a refusal ({"error": code, ...}), or "" (never the partner's free text)."""
    try:
        code = json.loads(body[:4096]).get("error", "")
    except (ValueError, AttributeError):
        return ""
    return code if isinstance(code, str) and code.isascii() and len(code) <= 40 else ""


class HttpTransport:
    def send(self, partner: Partner, message_id: str, envelope: bytes) -> bytes:
        if not partner.endpoint.startswith(("http://", "https://")):
            raise TransportError("送信先URLが登録されていません（http または https）。", retryable=False)
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            partner.endpoint,
            data=envelope,
            method="POST",
            headers={"Content-Type": "application/json", "X-Message-Id": message_id},
        )
        timeout = settings.TRANSFERS_HTTP_TIMEOUT
        try:
            with _opener.open(request, timeout=timeout) as response:
                status, body = response.status, response.read(MAX_ENVELOPE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            status = exc.code
            body = exc.read(MAX_ENVELOPE_BYTES + 1) if exc.fp else b""
            exc.close()
        except TimeoutError:
            raise TransportError(f"相手が応答しません（{timeout:g} 秒で打ち切り）。") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise TransportError(f"相手が応答しません（{timeout:g} 秒で打ち切り）。") from None
            name = type(reason).__name__ if isinstance(reason, BaseException) else "URLError"
            raise TransportError(f"相手に接続できません（{name}）。") from None
        except (ConnectionError, OSError) as exc:  # reset while reading, etc.
            raise TransportError(f"通信が途中で切れました（{type(exc).__name__}）。") from None
        if status in ACK_STATUSES:
            if not body:
                raise TransportError(f"相手の応答が空です（HTTP {status}）。", status=status)
            return body
        code = _refusal_code(body)
        detail = f"HTTP {status}" + (f" {code}" if code else "")
        if status >= 500 or status in RETRYABLE_STATUSES:
            raise TransportError(f"相手が受信できませんでした（{detail}）。", status=status)
        raise TransportError(f"相手が受信を拒否しました（{detail}）。", retryable=False, status=status)
