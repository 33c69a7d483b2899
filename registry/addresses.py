"""How addresses are written, in one place: on the 住民票, in the 異動 history and on the 附票."""

from common.models import Municipality


def with_katagaki(address: str, katagaki: str) -> str:
    """住所 as the 附票 and the notices carry it: 町名・番地 followed by the 方書, separated by a full-width space."""
    return f"{address}　{katagaki}" if katagaki else address


def previous_address_text(municipality: Municipality | None, address: str) -> str:
    """従前の住所 as a screen shows it: the municipality's name once, then the address within it (rows written before
    the address was stored without the municipality's name already begin with it)."""
    prefix = municipality.full_name if municipality is not None else ""
    return address if prefix and address.startswith(prefix) else prefix + address


def full_address(municipality: Municipality | None, address: str, katagaki: str = "") -> str:
    """東京都新宿区西新宿二丁目8番1号　○○ハイツ101 — what history rows and screens show."""
    prefix = municipality.full_name if municipality is not None else ""
    return prefix + with_katagaki(address, katagaki)
