"""Issuing 住民票コード.

In production the codes come from the number pool that J-LIS distributes to each municipality; this issuer draws
10 random digits (never derived from personal data, domain.md §4.1), adds the check digit, and retries on the rare
collision with a code already in use. `rng` lets the dummy-data generator be deterministic for a given seed.

`juminhyo_code_for(n)` makes a readable, deterministic valid code from a small number, for tests and fixtures: the
payload is n zero-padded to 10 digits, so `juminhyo_code_for(1)` is `00000000019` and the tenth person of a test is
`juminhyo_code_for(10)`. Never use it to issue a code to a real person.
"""

import random
import secrets
from collections.abc import Callable

from .checkdigits import juminhyo_code_check_digit


def random_juminhyo_code(rng: random.Random | None = None) -> str:
    payload = f"{(rng.randrange(10**10) if rng is not None else secrets.randbelow(10**10)):010d}"
    return payload + str(juminhyo_code_check_digit(payload))


def juminhyo_code_for(n: int) -> str:
    """The valid 住民票コード whose 10 payload digits are `n` zero-padded: 1 → "00000000019", 1234567890 →
    "12345678903". Deterministic and readable, for tests and fixtures (0 <= n < 10**10)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 10**10:
        raise ValueError("n must be an integer from 0 to 9999999999")
    payload = f"{n:010d}"
    return payload + str(juminhyo_code_check_digit(payload))


def issue_juminhyo_code(in_use: Callable[[str], bool], rng: random.Random | None = None, attempts: int = 20) -> str:
    """A fresh code for which `in_use(code)` is false."""
    for _ in range(attempts):
        code = random_juminhyo_code(rng)
        if not in_use(code):
            return code
    raise RuntimeError("住民票コードを払い出せませんでした（衝突が続きました）")
