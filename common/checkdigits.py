"""Check digits of the identifiers the registers carry (domain.md §4).

住民票コード: 10 payload digits + 1 check digit, modulus 11 with weights 2..7,2..5 counted from the rightmost payload
digit; a remainder of 0 or 1 gives 0 (the 個人番号's rule: the 告示 text was not at hand, and public sample codes
fit either reading of a remainder of 0).

地方公共団体コード: 5 payload digits + 1 check digit (総務省「全国地方公共団体コード」):
weights 6,5,4,3,2 from the left, check = 11 - (sum mod 11), taking the last digit, so a remainder of 0 gives 1
and a remainder of 1 gives 0.

The notices' partners (sender, receiver) are 地方公共団体コード, or J-LIS, the one partner that is not a 地方公共団体.
"""

JLIS_CODE = "J-LIS"  # transfers.routing.JLIS


def juminhyo_code_check_digit(payload: str) -> int:
    """Check digit of a 住民票コード's 10 payload digits. `1234567890` → 3."""
    if len(payload) != 10 or not payload.isascii() or not payload.isdigit():
        raise ValueError("payload must be 10 ASCII digits")
    total = sum(int(c) * (n + 1 if n <= 6 else n - 5) for n, c in enumerate(reversed(payload), start=1))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_juminhyo_code(code: str) -> bool:
    return (
        len(code) == 11 and code.isascii() and code.isdigit() and juminhyo_code_check_digit(code[:10]) == int(code[10])
    )


def lg_code_check_digit(payload: str) -> int:
    """Check digit of a 地方公共団体コード's 5 payload digits. `13104` (新宿区) → 1."""
    if len(payload) != 5 or not payload.isascii() or not payload.isdigit():
        raise ValueError("payload must be 5 ASCII digits")
    total = sum(int(c) * w for c, w in zip(payload, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def is_valid_lg_code(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit() and lg_code_check_digit(code[:5]) == int(code[5])


def is_valid_partner_code(code: str) -> bool:
    """A notice's sender, receiver or partner: a 地方公共団体コード with its check digit, or J-LIS."""
    return code == JLIS_CODE or is_valid_lg_code(code)
