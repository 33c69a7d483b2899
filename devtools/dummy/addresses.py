"""Addresses for dummy data: the ward's real 町丁目 with generated 番・号 and building names, and addresses elsewhere.

町名 and 丁目 are public geography; every 番地, 号, building name and room number is drawn at random, so an address may
or may not exist and never points at a real household on purpose.

Texts follow the registers' conventions (registry.addresses): the ward address is what comes after 「新宿区」
(「高田馬場三丁目12番5号」), the 方書 separate (「メゾン高田馬場203」); an address elsewhere is what comes after the
municipality's name; a 本籍 is a 地番 (「西新宿二丁目8番地」).
"""

import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate

KANJI_DIGITS = "〇一二三四五六七八九"


# random.Random.randint and .choice go through randrange and _randbelow in Python; the generator calls them
# millions of times. These take one random() each (C), which is uniform enough for dummy data and as deterministic.
def randint(rng: random.Random, lo: int, hi: int) -> int:
    """An integer in [lo, hi]."""
    return lo + int(rng.random() * (hi - lo + 1))


def pick(rng: random.Random, seq):
    """One element of a non-empty sequence."""
    return seq[int(rng.random() * len(seq))]


# (町名, number of 丁目 or 0 when the 町 has none, relative weight ~ residents living there)
WARD_TOWNS: tuple[tuple[str, int, float], ...] = (
    ("西新宿", 8, 9),
    ("新宿", 7, 6),
    ("歌舞伎町", 2, 2),
    ("大久保", 3, 8),
    ("百人町", 4, 7),
    ("北新宿", 4, 8),
    ("高田馬場", 4, 8),
    ("西早稲田", 3, 5),
    ("戸塚町", 1, 1),
    ("戸山", 3, 5),
    ("早稲田鶴巻町", 0, 2),
    ("早稲田南町", 0, 1),
    ("早稲田町", 0, 1),
    ("馬場下町", 0, 1),
    ("喜久井町", 0, 1),
    ("原町", 3, 2),
    ("若松町", 0, 2),
    ("河田町", 0, 1),
    ("余丁町", 0, 2),
    ("弁天町", 0, 1),
    ("榎町", 0, 1),
    ("山吹町", 0, 1),
    ("天神町", 0, 1),
    ("中里町", 0, 0.5),
    ("水道町", 0, 0.5),
    ("新小川町", 0, 1),
    ("矢来町", 0, 1),
    ("横寺町", 0, 0.5),
    ("神楽坂", 6, 3),
    ("赤城元町", 0, 0.5),
    ("赤城下町", 0, 0.5),
    ("揚場町", 0, 0.5),
    ("市谷加賀町", 2, 1.5),
    ("市谷柳町", 0, 1),
    ("市谷薬王寺町", 0, 1),
    ("市谷砂土原町", 3, 1),
    ("市谷田町", 3, 1),
    ("市谷本村町", 0, 0.5),
    ("市谷台町", 0, 0.5),
    ("住吉町", 0, 1),
    ("富久町", 0, 2),
    ("片町", 0, 0.5),
    ("舟町", 0, 0.5),
    ("荒木町", 0, 1),
    ("三栄町", 0, 0.5),
    ("愛住町", 0, 0.5),
    ("大京町", 0, 1),
    ("信濃町", 0, 1),
    ("南元町", 0, 0.5),
    ("霞ヶ丘町", 0, 0.5),
    ("若葉", 3, 2),
    ("須賀町", 0, 0.5),
    ("左門町", 0, 0.5),
    ("四谷", 4, 3),
    ("四谷坂町", 0, 0.5),
    ("四谷本塩町", 0, 0.5),
    ("内藤町", 0, 0.5),
    ("下落合", 4, 7),
    ("中落合", 4, 7),
    ("西落合", 4, 6),
    ("上落合", 3, 5),
    ("中井", 2, 3),
    ("北山伏町", 0, 0.5),
    ("納戸町", 0, 0.5),
    ("細工町", 0, 0.3),
    ("払方町", 0, 0.5),
    ("箪笥町", 0, 0.5),
    ("南榎町", 0, 0.5),
    ("改代町", 0, 0.5),
    ("西五軒町", 0, 0.5),
    ("東五軒町", 0, 0.5),
    ("下宮比町", 0, 0.3),
    ("筑土八幡町", 0, 0.3),
    ("津久戸町", 0, 0.3),
)

_BUILDING_WORDS = (
    "グリーン",
    "サン",
    "パーク",
    "ライオンズ",
    "クレスト",
    "ベル",
    "エスポワール",
    "フォレスト",
    "リバーサイド",
    "プラウド",
    "メゾン",
    "コーポ",
    "シャトー",
    "エクセル",
    "ロイヤル",
    "グラン",
    "アーバン",
    "セントラル",
    "ヴィラ",
    "ルミエール",
    "カーサ",
    "エステート",
    "ドミール",
    "アルカディア",
    "レジェンド",
    "朝日",
    "富士見",
    "若葉",
    "旭",
    "日之出",
    "第一",
    "第二",
    "第三",
    "新宿",
    "落合",
    "早稲田",
    "四谷",
    "神楽",
)
_BUILDING_KINDS = (
    "ハイツ",
    "コーポ",
    "マンション",
    "レジデンス",
    "ハウス",
    "荘",
    "タワー",
    "ビル",
    "コート",
    "パレス",
    "ヒルズ",
    "テラス",
    "アパートメント",
    "ガーデン",
)
# Town names that exist in many municipalities; combined with random 丁目・番・号 they point nowhere in particular.
_COMMON_TOWNS = (
    "本町",
    "中央",
    "栄町",
    "旭町",
    "緑町",
    "南町",
    "東町",
    "幸町",
    "若葉",
    "桜木町",
    "青葉台",
    "大手町",
    "錦町",
    "末広町",
    "寿町",
    "宮前",
    "松原",
    "平和台",
    "富士見",
    "日の出町",
    "柳町",
    "新町",
    "元町",
    "港町",
    "昭和町",
    "泉町",
    "春日",
    "西町",
    "北町",
    "住吉",
    "東山",
    "西原",
    "南台",
    "中町",
    "桜台",
    "花園",
    "朝日町",
    "千代田",
)
_RURAL_TOWNS = ("大字上野", "大字下村", "大字中山", "大字高田", "大字原", "大字新田", "大字本郷", "大字堀之内")
# 行政区 of the designated cities in the bundled table: an address there starts with the 区.
DESIGNATED_CITY_WARDS: dict[str, tuple[str, ...]] = {
    "011002": ("中央区", "北区", "東区", "白石区", "豊平区"),
    "041009": ("青葉区", "宮城野区", "若林区", "太白区"),
    "111007": ("浦和区", "大宮区", "中央区", "南区", "緑区"),
    "121002": ("中央区", "花見川区", "稲毛区", "美浜区"),
    "141003": ("中区", "西区", "港北区", "青葉区", "都筑区", "戸塚区", "神奈川区"),
    "141305": ("川崎区", "中原区", "高津区", "宮前区", "多摩区", "麻生区"),
    "141500": ("緑区", "中央区", "南区"),
    "151009": ("中央区", "東区", "西区"),
    "221007": ("葵区", "駿河区", "清水区"),
    "221309": ("中央区", "浜名区", "天竜区"),
    "231002": ("中区", "千種区", "昭和区", "名東区", "天白区"),
    "261009": ("中京区", "左京区", "右京区", "伏見区", "北区"),
    "271004": ("北区", "中央区", "天王寺区", "阿倍野区", "淀川区"),
    "271403": ("堺区", "北区", "中区", "西区"),
    "281000": ("中央区", "灘区", "東灘区", "須磨区"),
    "331007": ("北区", "中区", "南区"),
    "341002": ("中区", "南区", "西区", "安佐南区"),
    "401005": ("小倉北区", "小倉南区", "八幡西区", "戸畑区"),
    "401307": ("中央区", "博多区", "早良区", "東区"),
    "431001": ("中央区", "東区", "西区", "北区"),
}
COUNTRIES = (
    "アメリカ合衆国",
    "中華人民共和国",
    "大韓民国",
    "英国",
    "オーストラリア",
    "カナダ",
    "タイ",
    "シンガポール",
    "ドイツ",
    "フランス",
    "ベトナム",
    "台湾",
    "インドネシア",
    "ブラジル",
)


def kanji_number(n: int) -> str:
    """1..99 in kanji as 丁目 are written (一, 十二, 二十)."""
    if n < 10:
        return KANJI_DIGITS[n]
    tens, ones = divmod(n, 10)
    return (KANJI_DIGITS[tens] if tens > 1 else "") + "十" + (KANJI_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class WardAddress:
    address: str  # 町名・丁目・番・号
    katagaki: str  # 方書, may be empty
    town: str  # 町丁目, used for a 本籍 at the same place
    block: int  # 番


class WardAddresses:
    """Draws addresses in the ward, weighted by where people live."""

    def __init__(self) -> None:
        self._towns = [(name, chome) for name, chome, _ in WARD_TOWNS]
        self._cum = list(accumulate(weight for _, _, weight in WARD_TOWNS))

    def _town(self, rng: random.Random) -> str:
        name, chome = self._towns[bisect(self._cum, rng.random() * self._cum[-1])]
        return f"{name}{kanji_number(randint(rng, 1, chome))}丁目" if chome else name

    def draw(self, rng: random.Random, *, katagaki_share: float = 0.7) -> WardAddress:
        town = self._town(rng)
        block = randint(rng, 1, 30)
        address = f"{town}{block}番{randint(rng, 1, 28)}号"
        katagaki = building(rng, town) if rng.random() < katagaki_share else ""
        return WardAddress(address, katagaki, town, block)

    def honseki(self, rng: random.Random, near: WardAddress | None = None) -> str:
        """A 本籍 in the ward (a 地番): often the family's own address, otherwise anywhere in the ward."""
        if near is not None and rng.random() < 0.5:
            return f"{near.town}{near.block}番地"
        return f"{self._town(rng)}{randint(rng, 1, 40)}番地"


def building(rng: random.Random, town: str = "") -> str:
    """A 方書: building name and room, e.g. 「グリーンハイツ203」「朝日荘5」「パーク西新宿1105」."""
    word = pick(rng, _BUILDING_WORDS)
    if town and rng.random() < 0.3:
        word += town.rstrip("一二三四五六七八丁目")
    kind = pick(rng, _BUILDING_KINDS)
    if kind == "荘":
        return f"{word}荘{randint(rng, 1, 12)}"
    floors = 15 if kind in ("タワー", "マンション", "レジデンス") else 5
    return f"{word}{kind}{randint(rng, 1, floors)}{randint(rng, 1, 12):02d}"


def elsewhere_address(rng: random.Random, municipality_code: str) -> str:
    """An address after the municipality's name, in another municipality."""
    prefix = ""
    wards = DESIGNATED_CITY_WARDS.get(municipality_code)
    if wards:
        prefix = pick(rng, wards)
    if rng.random() < 0.12:
        text = f"{prefix}{pick(rng, _RURAL_TOWNS)}{randint(rng, 1, 2500)}番地"
        if rng.random() < 0.5:
            text += str(randint(rng, 1, 30))
        return text
    text = f"{prefix}{pick(rng, _COMMON_TOWNS)}{randint(rng, 1, 6)}丁目{randint(rng, 1, 30)}番{randint(rng, 1, 25)}号"
    if rng.random() < 0.4:
        text += "　" + building(rng)
    return text


def elsewhere_honseki(rng: random.Random, municipality_code: str) -> str:
    """A 本籍 (地番) in another municipality."""
    prefix = ""
    wards = DESIGNATED_CITY_WARDS.get(municipality_code)
    if wards:
        prefix = pick(rng, wards)
    if rng.random() < 0.3:
        return f"{prefix}{pick(rng, _RURAL_TOWNS)}{randint(rng, 1, 3000)}番地"
    return f"{prefix}{pick(rng, _COMMON_TOWNS)}{randint(rng, 1, 6)}丁目{randint(rng, 1, 40)}番地"


class OtherMunicipalities:
    """Municipalities other than the ward, weighted by how often Shinjuku residents come from or go to them:
    Tokyo first, then the three neighbouring prefectures, then the rest of the country."""

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        """`rows`: (地方公共団体コード, full name 「東京都中野区」) of every municipality that may be drawn."""
        if not rows:
            raise ValueError("no municipality to draw from: load the municipality table first")
        self.codes = [code for code, _ in rows]
        self.full_names = dict(rows)
        self._cum = list(accumulate(self._weight(code) for code in self.codes))

    @staticmethod
    def _weight(code: str) -> float:
        if code.startswith("131"):  # special wards
            return 8.0
        if code.startswith("13"):
            return 3.0
        if code[:2] in ("11", "12", "14"):  # 埼玉, 千葉, 神奈川
            return 4.0
        return 1.0

    def draw(self, rng: random.Random) -> str:
        return self.codes[bisect(self._cum, rng.random() * self._cum[-1])]
