"""氏名: any kanji, including the supplementary-plane extensions and ideographic variation sequences (IVS).

Names are kept exactly as entered (no NFC/NFKC: that would fold 異体字 and drop variation selectors). What a name
may hold: CJK ideographs of every block, the iteration and abbreviation marks used in names (々 〆 ヶ ヵ), hiragana,
katakana, the prolonged sound mark, and variation selectors directly after an ideograph.
"""

import unicodedata

_IDEOGRAPH_RANGES = (
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2EBEF),  # Extensions C, D, E, F
    (0x2EBF0, 0x2EE5F),  # Extension I
    (0x2F800, 0x2FA1F),  # Compatibility Ideographs Supplement
    (0x30000, 0x323AF),  # Extensions G, H
)
_VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
_OTHER_ALLOWED = frozenset("々〆ヶヵーゝゞヽヾ〇")
_KANA_RANGES = ((0x3041, 0x3096), (0x30A1, 0x30FA))


def _in(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def is_ideograph(ch: str) -> bool:
    return _in(ord(ch), _IDEOGRAPH_RANGES)


def is_variation_selector(ch: str) -> bool:
    return _in(ord(ch), _VARIATION_SELECTORS)


def name_problems(text: str) -> list[str]:
    """Human-readable problems with a name component (氏 or 名), in Japanese; empty when it is acceptable."""
    problems: list[str] = []
    if not text:
        return ["入力してください。"]
    previous = ""
    for ch in text:
        code = ord(ch)
        if is_variation_selector(ch):
            if not previous or not is_ideograph(previous):
                problems.append("異体字セレクタは漢字の直後にだけ置けます。")
        elif 0xE000 <= code <= 0xF8FF or 0xF0000 <= code:
            problems.append(f"外字（私用領域の文字 U+{code:04X}）は使えません。文字情報基盤の文字で入力してください。")
        elif ch.isspace():
            problems.append("氏と名はそれぞれの欄に入力し、空白は入れないでください。")
        elif not (is_ideograph(ch) or ch in _OTHER_ALLOWED or _in(code, _KANA_RANGES)):
            label = unicodedata.name(ch, f"U+{code:04X}")
            problems.append(f"氏名に使えない文字「{ch}」（{label}）が含まれています。")
        previous = ch
    return list(dict.fromkeys(problems))
