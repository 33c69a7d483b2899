"""続柄 (relationship to the 世帯主), standard specification §1.1.11 (domain.md §3.2).

Allowed: 世帯主, 縁故者, 同居人, or a chain of up to four links from LINKS joined by 「の」 (子の子, 妻の父,
子の子の子の子). Five or more links are written 縁故者. Terms such as 孫 or 祖父 must not be used: the chain is written
instead (子の子, 父の父).
"""

from django.core.exceptions import ValidationError

HEAD = "世帯主"
STANDALONE = frozenset({HEAD, "縁故者", "同居人"})
LINKS = ("夫（未届）", "妻（未届）", "夫", "妻", "子", "父", "母", "兄", "姉", "弟", "妹")
MAX_LINKS = 4
FORBIDDEN = {
    "孫": "子の子",
    "祖父": "父の父 または 母の父",
    "祖母": "父の母 または 母の母",
    "曾孫": "子の子の子",
    "ひ孫": "子の子の子",
    "長男": "子",
    "長女": "子",
    "次男": "子",
    "次女": "子",
    "養子": "子",
    "養女": "子",
    "嫁": "子の妻",
    "婿": "子の夫",
    "甥": "兄の子 など",
    "姪": "兄の子 など",
    "おじ": "父の兄 など",
    "おば": "父の姉 など",
    "叔父": "父の弟 など",
    "叔母": "父の妹 など",
    "伯父": "父の兄 など",
    "伯母": "父の姉 など",
    "家事使用人": "同居人",
    "準世帯主": "縁故者 または 同居人",
}


def normalise(value: str) -> str:
    """Fold half-width parentheses and spaces that clerks type: `妻(未届)` → `妻（未届）`."""
    return value.strip().replace("(", "（").replace(")", "）").replace(" ", "").replace("　", "")


def split_links(value: str) -> list[str] | None:
    """The links of a chain, or None when `value` is not a chain of allowed links."""
    links: list[str] = []
    rest = value
    while rest:
        for link in LINKS:
            if rest.startswith(link):
                links.append(link)
                rest = rest[len(link) :]
                break
        else:
            return None
        if rest:
            if not rest.startswith("の"):
                return None
            rest = rest[1:]
            if not rest:
                return None
    return links


def validate_relationship(value: str) -> None:
    value = normalise(value)
    if value in STANDALONE:
        return
    for term, instead in FORBIDDEN.items():
        if term in value:
            raise ValidationError(
                "続柄に「%(term)s」は使えません。「%(instead)s」と記載してください。",
                code="relationship_forbidden",
                params={"term": term, "instead": instead},
            )
    links = split_links(value) if value else None
    if not links:
        raise ValidationError(
            "続柄「%(value)s」は記載できません。世帯主・妻・子・子の子・妻の父のように、続柄を「の」でつないで入力してください。",
            code="relationship_invalid",
            params={"value": value},
        )
    if len(links) > MAX_LINKS:
        raise ValidationError("続柄が5段階以上になるときは「縁故者」と記載してください。", code="relationship_too_long")
