"""Name tables for dummy data: surnames and given names in kanji with their readings in full-width katakana.

Every name here is a common word-like name, combined at random: no row describes a real person. Surnames are listed
roughly by frequency (the weight falls with the rank, so 佐藤 and 鈴木 come up often and 鷲尾 rarely). Given names are
grouped by sex and by the era they were popular in, so that a woman born in 1940 is a 和子 or a トメ and one born in
2015 a 陽葵.

A few surnames exercise the "any kanji" rule of `common.names`: ideographic variation sequences (葛 and 辻 followed by
VARIATION SELECTOR-17, U+E0100), supplementary-plane ideographs (𠮷 U+20BB7, 𡈽 U+2123D), a CJK compatibility
ideograph that has no canonical decomposition (﨑 U+FA11) and BMP 異体字 (髙, 邉, 齋, 濵). Names are used exactly as
written here; nothing is normalised.
"""

import random
from bisect import bisect
from dataclasses import dataclass
from datetime import date
from itertools import accumulate

from registry.choices import Sex

IVS_17 = "\U000e0100"  # VARIATION SELECTOR-17: the first ideographic variation selector

_SURNAMES = """
佐藤:サトウ 鈴木:スズキ 高橋:タカハシ 田中:タナカ 伊藤:イトウ 渡辺:ワタナベ 山本:ヤマモト 中村:ナカムラ
小林:コバヤシ 加藤:カトウ 吉田:ヨシダ 山田:ヤマダ 佐々木:ササキ 山口:ヤマグチ 松本:マツモト 井上:イノウエ
木村:キムラ 林:ハヤシ 斎藤:サイトウ 清水:シミズ 山崎:ヤマザキ 森:モリ 池田:イケダ 橋本:ハシモト 阿部:アベ
石川:イシカワ 山下:ヤマシタ 中島:ナカジマ 石井:イシイ 小川:オガワ 前田:マエダ 岡田:オカダ 長谷川:ハセガワ
藤田:フジタ 後藤:ゴトウ 近藤:コンドウ 村上:ムラカミ 遠藤:エンドウ 青木:アオキ 坂本:サカモト 斉藤:サイトウ
福田:フクダ 太田:オオタ 西村:ニシムラ 藤井:フジイ 金子:カネコ 岡本:オカモト 藤原:フジワラ 中野:ナカノ 三浦:ミウラ
原田:ハラダ 中川:ナカガワ 松田:マツダ 竹内:タケウチ 小野:オノ 田村:タムラ 中山:ナカヤマ 和田:ワダ 石田:イシダ
森田:モリタ 上田:ウエダ 原:ハラ 内田:ウチダ 柴田:シバタ 酒井:サカイ 宮崎:ミヤザキ 横山:ヨコヤマ 高木:タカギ
安藤:アンドウ 宮本:ミヤモト 大野:オオノ 小島:コジマ 谷口:タニグチ 今井:イマイ 工藤:クドウ 高田:タカダ 増田:マスダ
丸山:マルヤマ 杉山:スギヤマ 村田:ムラタ 大塚:オオツカ 小山:コヤマ 藤本:フジモト 平野:ヒラノ 新井:アライ 河野:コウノ
上野:ウエノ 武田:タケダ 野口:ノグチ 松井:マツイ 千葉:チバ 岩崎:イワサキ 菅原:スガワラ 木下:キノシタ 久保:クボ
佐野:サノ 野村:ノムラ 松尾:マツオ 市川:イチカワ 菊地:キクチ 杉本:スギモト 古川:フルカワ 大西:オオニシ 島田:シマダ
水野:ミズノ 桜井:サクライ 高野:タカノ 渡部:ワタナベ 吉川:ヨシカワ 山内:ヤマウチ 西田:ニシダ 飯田:イイダ 菊池:キクチ
西川:ニシカワ 小松:コマツ 北村:キタムラ 安田:ヤスダ 五十嵐:イガラシ 川口:カワグチ 平田:ヒラタ 関:セキ 中田:ナカタ
久保田:クボタ 服部:ハットリ 東:ヒガシ 岩田:イワタ 土屋:ツチヤ 川崎:カワサキ 福島:フクシマ 本田:ホンダ 辻:ツジ
樋口:ヒグチ 秋山:アキヤマ 田口:タグチ 永井:ナガイ 山中:ヤマナカ 中西:ナカニシ 吉村:ヨシムラ 川上:カワカミ
石原:イシハラ 大橋:オオハシ 松岡:マツオカ 馬場:ババ 浅野:アサノ 荒木:アラキ 大久保:オオクボ 野田:ノダ 小沢:オザワ
田辺:タナベ 川村:カワムラ 星野:ホシノ 黒田:クロダ 堀:ホリ 尾崎:オザキ 望月:モチヅキ 永田:ナガタ 熊谷:クマガイ
内藤:ナイトウ 松浦:マツウラ 大島:オオシマ 平井:ヒライ 早川:ハヤカワ 岩本:イワモト 片山:カタヤマ 矢野:ヤノ
桑原:クワハラ 須藤:スドウ 広瀬:ヒロセ 新田:ニッタ 伊東:イトウ 菅野:カンノ 吉岡:ヨシオカ 上原:ウエハラ 松下:マツシタ
竹田:タケダ 小池:コイケ 北川:キタガワ 大川:オオカワ 奥村:オクムラ 栗原:クリハラ 中澤:ナカザワ 前川:マエカワ
関口:セキグチ 荒井:アライ 宮田:ミヤタ 大谷:オオタニ 坂口:サカグチ 飯島:イイジマ 西山:ニシヤマ 村井:ムライ
宮下:ミヤシタ 篠原:シノハラ 石橋:イシバシ 田島:タジマ 福井:フクイ 大森:オオモリ 高山:タカヤマ 松村:マツムラ
本間:ホンマ 小田:オダ 今村:イマムラ 森本:モリモト 岡崎:オカザキ 成田:ナリタ 松原:マツバラ 河合:カワイ 宮内:ミヤウチ
安井:ヤスイ 木内:キウチ 浜田:ハマダ 石黒:イシグロ 内山:ウチヤマ 吉野:ヨシノ 中井:ナカイ 西岡:ニシオカ 桑田:クワタ
堀内:ホリウチ 岡村:オカムラ 竹中:タケナカ 根本:ネモト 富田:トミタ 有馬:アリマ 相沢:アイザワ 青山:アオヤマ
秋元:アキモト 浅井:アサイ 天野:アマノ 新谷:シンタニ 市村:イチムラ 植田:ウエダ 牧野:マキノ 小西:コニシ 梅田:ウメダ
吉井:ヨシイ 岸:キシ 向井:ムカイ 若林:ワカバヤシ 白石:シライシ 大石:オオイシ 藤川:フジカワ 西野:ニシノ 森川:モリカワ
赤松:アカマツ 金井:カナイ 小泉:コイズミ 福本:フクモト 秋田:アキタ 滝沢:タキザワ 川田:カワタ 松永:マツナガ 堤:ツツミ
白井:シライ 沢田:サワダ 野崎:ノザキ 長田:ナガタ 笠原:カサハラ 深沢:フカサワ 三宅:ミヤケ 岡:オカ 宇野:ウノ
栗田:クリタ 竹下:タケシタ 神田:カンダ 土井:ドイ 片岡:カタオカ 三上:ミカミ 水谷:ミズタニ 広田:ヒロタ 柳田:ヤナギダ
吉原:ヨシハラ 森下:モリシタ 中尾:ナカオ 黒川:クロカワ 宮原:ミヤハラ 田上:タガミ 小森:コモリ 長尾:ナガオ
稲垣:イナガキ 大竹:オオタケ 片桐:カタギリ 寺田:テラダ 石塚:イシヅカ 岡部:オカベ 古田:フルタ 小倉:オグラ
杉浦:スギウラ 臼井:ウスイ 中谷:ナカタニ 戸田:トダ 平山:ヒラヤマ 南:ミナミ 上村:ウエムラ 江口:エグチ 大山:オオヤマ
奥田:オクダ 加納:カノウ 亀井:カメイ 川島:カワシマ 岸本:キシモト 北野:キタノ 国分:コクブン 小宮:コミヤ 佐久間:サクマ
塩田:シオタ 志村:シムラ 関根:セキネ 高松:タカマツ 滝口:タキグチ 田代:タシロ 千田:チダ 徳田:トクダ 豊田:トヨダ
中沢:ナカザワ 西尾:ニシオ 野中:ノナカ 萩原:ハギワラ 畠山:ハタケヤマ 浜口:ハマグチ 平川:ヒラカワ 藤村:フジムラ
古谷:フルヤ 細川:ホソカワ 前原:マエハラ 松山:マツヤマ 三好:ミヨシ 村松:ムラマツ 室井:ムロイ 森山:モリヤマ 八木:ヤギ
矢島:ヤジマ 柳沢:ヤナギサワ 山岸:ヤマギシ 横田:ヨコタ 吉沢:ヨシザワ 米田:ヨネダ 若松:ワカマツ 鷲尾:ワシオ
金城:キンジョウ 比嘉:ヒガ 大城:オオシロ 新垣:アラカキ 宮城:ミヤギ 玉城:タマキ
"""

# Variant spellings that the 戸籍 keeps as written (domain.md §7). Weighted like a mid-table surname so that a few
# hundred residents already contain some of them.
_VARIANT_SURNAMES = f"""
髙橋:タカハシ 髙木:タカギ 山﨑:ヤマザキ 𠮷田:ヨシダ 𠮷川:ヨシカワ 𠮷村:ヨシムラ 𡈽屋:ツチヤ 渡邉:ワタナベ
渡邊:ワタナベ 齋藤:サイトウ 齊藤:サイトウ 濵田:ハマダ 葛{IVS_17}西:カサイ 葛{IVS_17}城:カツラギ 辻{IVS_17}:ツジ
辻{IVS_17}本:ツジモト
"""

_MALE_OLD = """
清:キヨシ 茂:シゲル 勇:イサム 博:ヒロシ 実:ミノル 進:ススム 正:タダシ 隆:タカシ 昭:アキラ 武:タケシ 勝:マサル
明:アキラ 豊:ユタカ 稔:ミノル 弘:ヒロシ 正夫:マサオ 和夫:カズオ 一郎:イチロウ 三郎:サブロウ 次郎:ジロウ 正雄:マサオ
秀夫:ヒデオ 幸雄:ユキオ 義雄:ヨシオ 敏夫:トシオ 健一:ケンイチ 修:オサム 孝:タカシ 徹:トオル 忠:タダシ 昇:ノボル
登:ノボル 光男:ミツオ 武雄:タケオ 久:ヒサシ 功:イサオ 輝男:テルオ 信夫:ノブオ 勝利:カツトシ 良一:リョウイチ
正一:ショウイチ 英二:エイジ 浩:ヒロシ 栄一:エイイチ 辰雄:タツオ 重雄:シゲオ 嘉男:ヨシオ 寛:ヒロシ 恒夫:ツネオ
国男:クニオ 文雄:フミオ
"""
_MALE_MID = """
大輔:ダイスケ 誠:マコト 直樹:ナオキ 哲也:テツヤ 剛:ツヨシ 達也:タツヤ 和也:カズヤ 拓也:タクヤ 学:マナブ 浩二:コウジ
隆之:タカユキ 秀樹:ヒデキ 健二:ケンジ 聡:サトシ 亮:リョウ 智也:トモヤ 雅人:マサト 康弘:ヤスヒロ 淳:ジュン
洋平:ヨウヘイ 翔太:ショウタ 大介:ダイスケ 修一:シュウイチ 慎一:シンイチ 裕介:ユウスケ 健太郎:ケンタロウ 一樹:カズキ
勇気:ユウキ 正樹:マサキ 貴之:タカユキ 雄一:ユウイチ 伸也:シンヤ 俊介:シュンスケ 武史:タケシ 圭介:ケイスケ
英樹:ヒデキ 浩之:ヒロユキ 光:ヒカル 崇:タカシ 克也:カツヤ 憲一:ケンイチ 博之:ヒロユキ 弘樹:ヒロキ 隼人:ハヤト
敦:アツシ 悟:サトル 将:ショウ 太郎:タロウ 和彦:カズヒコ 健太:ケンタ
"""
_MALE_NEW = """
蓮:レン 湊:ミナト 陽翔:ハルト 大翔:ヒロト 悠真:ユウマ 蒼:アオイ 樹:イツキ 颯太:ソウタ 陸:リク 悠斗:ユウト 翔:ショウ
大和:ヤマト 拓海:タクミ 颯:ハヤテ 奏太:カナタ 結翔:ユイト 律:リツ 陽太:ヒナタ 朝陽:アサヒ 碧:アオイ 悠人:ユウト
翼:ツバサ 光希:コウキ 優斗:ユウト 海斗:カイト 航:ワタル 瑛太:エイタ 大雅:タイガ 蒼空:ソラ 湊斗:ミナト 隼:シュン
晴:ハル 新:アラタ 瑞樹:ミズキ 結弦:ユヅル 壮真:ソウマ 悠:ユウ 慶:ケイ 颯真:ソウマ 一輝:カズキ 涼太:リョウタ
駿:シュン 拓真:タクマ 侑:ユウ 大地:ダイチ 琉生:ルイ 怜:レイ 岳:ガク 悠希:ユウキ 陽向:ヒナタ
"""
_FEMALE_OLD = """
和子:カズコ 幸子:サチコ 節子:セツコ 洋子:ヨウコ 美智子:ミチコ 京子:キョウコ 恵子:ケイコ 久子:ヒサコ 悦子:エツコ
信子:ノブコ 文子:フミコ 昭子:アキコ 光子:ミツコ 弘子:ヒロコ 明美:アケミ 静子:シズコ 千代子:チヨコ 君子:キミコ
照子:テルコ 清子:キヨコ 敏子:トシコ 正子:マサコ 百合子:ユリコ 芳子:ヨシコ 良子:ヨシコ 初江:ハツエ 貞子:サダコ
美代子:ミヨコ 春子:ハルコ 冨美子:フミコ 澄子:スミコ 道子:ミチコ 勝子:カツコ 和江:カズエ 美恵子:ミエコ 八重子:ヤエコ
絹子:キヌコ 房子:フサコ 泰子:ヤスコ 紀子:ノリコ トメ:トメ ハナ:ハナ キミ:キミ ミツ:ミツ とし子:トシコ
"""
_FEMALE_MID = """
由美子:ユミコ 裕子:ユウコ 真由美:マユミ 恵美:エミ 直美:ナオミ 智子:トモコ 久美子:クミコ 陽子:ヨウコ 純子:ジュンコ
香織:カオリ 美穂:ミホ 綾:アヤ 愛:アイ 舞:マイ 千春:チハル 麻衣:マイ 彩:アヤ 恵:メグミ 真理子:マリコ 奈美:ナミ
由香:ユカ 理恵:リエ 晴美:ハルミ 美紀:ミキ 亜紀:アキ 幸恵:サチエ 典子:ノリコ 有紀:ユキ 沙織:サオリ 亜希子:アキコ
友美:トモミ 瞳:ヒトミ 美香:ミカ 優子:ユウコ 麻美:アサミ 絵美:エミ 朋子:トモコ 千尋:チヒロ 早苗:サナエ 明日香:アスカ
美咲:ミサキ 愛子:アイコ 由佳:ユカ 里美:サトミ 薫:カオル 睦美:ムツミ 玲子:レイコ 真紀:マキ 志保:シホ 円:マドカ
"""
_FEMALE_NEW = """
陽葵:ヒマリ 凛:リン 結菜:ユイナ 葵:アオイ 紬:ツムギ 結愛:ユア 芽依:メイ さくら:サクラ 莉子:リコ 美桜:ミオ 澪:ミオ
心春:コハル 咲良:サクラ 楓:カエデ 結衣:ユイ 杏:アン 陽菜:ヒナ 花:ハナ 彩葉:イロハ 詩:ウタ 琴音:コトネ 美月:ミヅキ
七海:ナナミ 美羽:ミウ 彩花:アヤカ 優奈:ユウナ 萌:モエ 花音:カノン 愛莉:アイリ 遥:ハルカ 菜々子:ナナコ 真央:マオ
桃子:モモコ 千夏:チナツ 沙羅:サラ 琴葉:コトハ 愛美:マナミ 明里:アカリ 美結:ミユ ひかり:ヒカリ 日菜子:ヒナコ
杏奈:アンナ 彩乃:アヤノ 結子:ユイコ 由奈:ユナ 瑞希:ミズキ 葉月:ハヅキ 未来:ミライ 芽衣:メイ 小春:コハル
"""


def _parse(table: str) -> list[tuple[str, str]]:
    pairs: dict[str, str] = {}
    for item in table.split():
        kanji, kana = item.split(":")
        pairs.setdefault(kanji, kana)  # first reading wins; the tables list a name once
    return list(pairs.items())


@dataclass(frozen=True)
class NameTable:
    """Names with their readings and cumulative weights, for `random.choices`-style draws with bisect."""

    names: tuple[tuple[str, str], ...]
    cum_weights: tuple[float, ...]

    @classmethod
    def ranked(cls, pairs: list[tuple[str, str]], extra: list[tuple[str, str]] = (), extra_weight=0.0):
        # Zipf-like: the 1st surname is ~25 times as common as the 300th, close to the real distribution's head.
        weights = [1.0 / (rank + 8) ** 0.75 for rank in range(len(pairs))] + [extra_weight] * len(extra)
        return cls(tuple(pairs) + tuple(extra), tuple(accumulate(weights)))

    def draw(self, rng: random.Random) -> tuple[str, str]:
        return self.names[bisect(self.cum_weights, rng.random() * self.cum_weights[-1])]

    def __len__(self) -> int:
        return len(self.names)


SURNAMES = NameTable.ranked(_parse(_SURNAMES), _parse(_VARIANT_SURNAMES), extra_weight=0.025)
_GIVEN = {
    (Sex.MALE, "old"): NameTable.ranked(_parse(_MALE_OLD)),
    (Sex.MALE, "mid"): NameTable.ranked(_parse(_MALE_MID)),
    (Sex.MALE, "new"): NameTable.ranked(_parse(_MALE_NEW)),
    (Sex.FEMALE, "old"): NameTable.ranked(_parse(_FEMALE_OLD)),
    (Sex.FEMALE, "mid"): NameTable.ranked(_parse(_FEMALE_MID)),
    (Sex.FEMALE, "new"): NameTable.ranked(_parse(_FEMALE_NEW)),
}


def _era(birth: date) -> str:
    if birth.year < 1955:
        return "old"
    return "mid" if birth.year < 1990 else "new"


def surname(rng: random.Random) -> tuple[str, str]:
    """(氏, 氏カナ)."""
    return SURNAMES.draw(rng)


def given_name(rng: random.Random, sex: str, birth: date, avoid: frozenset[str] | set[str] = frozenset()):
    """(名, 名カナ) fitting the sex and the birth year; `avoid` keeps siblings from sharing a name."""
    era = _era(birth)
    if rng.random() < 0.15:  # names drift across the era boundaries
        era = {"old": "mid", "mid": ("old", "new")[rng.random() < 0.5], "new": "mid"}[era]
    table = _GIVEN[(sex, era)]
    for _ in range(8):
        name = table.draw(rng)
        if name[0] not in avoid:
            return name
    return name


def all_names() -> list[tuple[str, str]]:
    """Every (name, reading) pair of every table: for tests that check the tables themselves."""
    out = list(SURNAMES.names)
    for table in _GIVEN.values():
        out.extend(table.names)
    return out
