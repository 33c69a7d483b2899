"""Render the notice conformance matrix (docs/notice-matrix.json) into docs/notices.md, section 「通知の適合表」.

The section is everything from its heading to the end of the file; it is replaced whole, the rest of the document is
kept. transfers/tests/test_notice_matrix.py fails when the document is not what this script would write.

    python scripts/render_notice_matrix.py          # rewrite docs/notices.md
    python scripts/render_notice_matrix.py --check  # exit 1 if docs/notices.md is out of date
"""

import json
import sys
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
MATRIX = BASE_DIR / "docs" / "notice-matrix.json"
DOC = BASE_DIR / "docs" / "notices.md"
HEADING = "## 通知の適合表"

KIND_LABELS = {
    "move_in_notice": "転入通知（9条1項）",
    "juminhyo_items": "住民票記載事項通知（9条2項）",
    "fuhyo_items": "附票記載事項通知（19条1項）",
    "honseki_check": "本籍照合通知（19条2項）",
    "honseki_transfer": "本籍転属通知（19条3項）",
    "jlis_fuhyo": "附票本人確認情報（J-LIS）",
}
WHERE = {"ward": "この区", "elsewhere": "他市区町村", "abroad": "国外"}

INTRO = """\
一行が一つの事例です：異動・届出（または受け取った通知）、本人の住所、本籍、届出人（受理地）。「送る通知」は区が書く
べき通知のすべて（種類 → 宛先、[ ] 内は変わる項目）で、これ以外の通知を書いてはいけません。「送らない通知」は送ると
思われがちな通知と、送らない理由です。受け取った通知の行では「結果」に通知の状態（applied＝自動反映、waiting＝職員の
確認待ち、done＝処理済）と何が変わったかを示します。送る行の「結果」は J-LIS の記録日・事由、戸籍の消除の件数など、
その行で確かめる事実です。表の元は `docs/notice-matrix.json` で、`transfers/tests/test_notice_matrix.py` が行ごと
に本物のサービス（受信の行は `transfers.inbound.receive` に封をした本物の電文）を動かし、通知が一つでも多いか少ない
と失敗します。✗ の付いた行は既知の不足（サービスがまだ行のとおりにしない、strict xfail）です。「課題」は issue 13
の不足の番号です。この節は `scripts/render_notice_matrix.py` が生成します：直すのはデータファイルです。"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _receiver(code: str, receivers: dict[str, str]) -> str:
    name = receivers.get(code, code)
    return name if code == "J-LIS" else f"{name}（{code}）"


def _sent(spec: dict[str, Any], receivers: dict[str, str]) -> str:
    text = f"{KIND_LABELS[spec['kind']]} → {_receiver(spec['receiver'], receivers)}"
    if spec.get("count", 1) > 1:
        text += f" ×{spec['count']}"
    if spec.get("items"):
        text += f" [{', '.join(spec['items'])}]"
    return text


def _not_sent(spec: dict[str, Any], receivers: dict[str, str]) -> str:
    return f"{KIND_LABELS[spec['kind']]} → {_receiver(spec['receiver'], receivers)}：{spec['why']}"


OBSERVED_LABELS = {
    "state": "受信した通知の状態",
    "authority_refused": "送信元の権限なし",
    "fuhyo_address": "附票の現住所（市区町村）",
    "fuhyo_code": "附票の住民票コード",
    "waiting_with_differences": "差異を表示",
    "juminhyo_surname": "住民票の氏",
    "juminhyo_honseki": "住民票の本籍（市区町村）",
    "move_out_confirmed_on": "除票の転出確定日",
    "fuhyo_opened": "附票を開設",
    "states": "送信の状態",
    "attempts": "送信の試行回数",
    "unconnected_entries": "送信先未接続の記録（システム／職員）",
    "koseki_closed_events": "戸籍の消除（koseki.closed）の件数",
    "unmatched_tasks": "照合待ち（fuhyo.unmatched）の件数",
    "jlis_recorded_on": "J-LIS の記録日",
    "jlis_reason": "J-LIS の事由",
    "jlis_hittousha": "J-LIS の筆頭者",
    "fuhyo_item_follows": "附票が同じ値になる",
    "refused": "削除を拒否",
    "removed_record_kept": "除票が残る",
}


def _after(row: dict[str, Any]) -> str:
    observed = row.get("observed") or {}
    return "<br>".join(
        f"{OBSERVED_LABELS.get(key, key)}: {json.dumps(value, ensure_ascii=False)}" for key, value in observed.items()
    )


def render_section(matrix: dict[str, Any]) -> str:
    receivers = matrix["receivers"]
    lines = [HEADING, "", INTRO, ""]
    lines.append("| # | 事例 | 住所 | 本籍 | 届出・発信 | 送る通知 | 送らない通知 | 結果 | 根拠 | 課題 |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for row in matrix["rows"]:
        sent = "<br>".join(_sent(s, receivers) for s in row["send"]) or "なし"
        not_sent = "<br>".join(_not_sent(s, receivers) for s in row.get("not_sent", []))
        gaps = ", ".join(str(g) for g in row.get("gaps", []))
        mark = f" ✗ {row['xfail']}" if row.get("xfail") else ""
        cells = [
            row["id"] + mark,
            row["case"],
            WHERE[row["lives"]],
            WHERE[row["honseki"]],
            row["filer"],
            sent,
            not_sent,
            _after(row),
            row["cite"],
            gaps,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def rendered_document() -> str:
    matrix = json.loads(MATRIX.read_text(encoding="utf-8"))
    doc = DOC.read_text(encoding="utf-8")
    head = doc.split(HEADING, 1)[0].rstrip("\n")
    return head + "\n\n" + render_section(matrix)


def main(argv: list[str]) -> int:
    text = rendered_document()
    if "--check" in argv:
        if DOC.read_text(encoding="utf-8") != text:
            print("docs/notices.md is out of date: run python scripts/render_notice_matrix.py")  # noqa: T201
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
