"""Issuing 住民票コード.

In production the codes come from the number pool that J-LIS distributes to each municipality; this issuer draws
10 random digits (never derived from personal data, domain.md §4.1), adds the check digit, and retries on the rare
collision with a code already in use. `rng` lets the dummy-data generator be deterministic for a given seed.
"""

import random
import secrets
from collections.abc import Callable

from .checkdigits import juminhyo_code_check_digit


def random_juminhyo_code(rng: random.Random | None = None) -> str:
    payload = f"{(rng.randrange(10**10) if rng is not None else secrets.randbelow(10**10)):010d}"
    return payload + str(juminhyo_code_check_digit(payload))


def issue_juminhyo_code(in_use: Callable[[str], bool], rng: random.Random | None = None, attempts: int = 20) -> str:
    """A fresh code for which `in_use(code)` is false."""
    for _ in range(attempts):
        code = random_juminhyo_code(rng)
        if not in_use(code):
            return code
    raise RuntimeError("住民票コードを払い出せませんでした（衝突が続きました）")
