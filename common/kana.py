"""氏名カナ: stored as full-width katakana.

Input in hiragana or half-width katakana is folded to full-width katakana; anything else (kanji, latin letters,
digits, symbols) is refused. Only the kana field is folded: names themselves are never normalised (domain.md §7).
"""

import unicodedata

_HIRAGANA_FIRST, _HIRAGANA_LAST = 0x3041, 0x3096  # ぁ..ゖ
_HIRAGANA_TO_KATAKANA = 0x60
_ITERATION_MARKS = {"ゝ": "ヽ", "ゞ": "ヾ"}
_HALFWIDTH_FIRST, _HALFWIDTH_LAST = 0xFF61, 0xFF9F  # ｡..ﾟ

ALLOWED_KATAKANA = frozenset(chr(c) for c in range(0x30A1, 0x30FB)) | {"ー", "ヽ", "ヾ", "・"}


def _fold_halfwidth(text: str) -> str:
    # NFKC composes ｶﾞ into ガ; applied to the half-width run only, so nothing else in the input changes silently.
    out: list[str] = []
    run: list[str] = []
    for ch in text:
        if _HALFWIDTH_FIRST <= ord(ch) <= _HALFWIDTH_LAST:
            run.append(ch)
            continue
        if run:
            out.append(unicodedata.normalize("NFKC", "".join(run)))
            run = []
        out.append(ch)
    if run:
        out.append(unicodedata.normalize("NFKC", "".join(run)))
    return "".join(out)


def fold_kana(text: str) -> str:
    """Fold hiragana and half-width katakana to full-width katakana; strip surrounding spaces.

    Returns the folded text without judging it; `invalid_kana_characters` says what is left that is not katakana.
    """
    text = _fold_halfwidth(text.strip())
    chars = []
    for ch in text:
        code = ord(ch)
        if _HIRAGANA_FIRST <= code <= _HIRAGANA_LAST:
            chars.append(chr(code + _HIRAGANA_TO_KATAKANA))
        else:
            chars.append(_ITERATION_MARKS.get(ch, ch))
    return "".join(chars)


def invalid_kana_characters(text: str) -> list[str]:
    """Characters of `text` (already folded) that may not stand in a カナ field, in order, without repeats."""
    seen: list[str] = []
    for ch in text:
        if ch not in ALLOWED_KATAKANA and ch not in seen:
            seen.append(ch)
    return seen
