"""The result every benchmark writes (`--json-out PATH`) and `make bench` collects: figures, the reference measured
in the same run, ratios, targets met or missed, correctness checks, and the machine it ran on."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def machine_info(note: str = "") -> dict[str, Any]:
    """The CPUs, memory and load of this machine now (the load says how much else was running)."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count() or 0,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load": list(os.getloadavg()),
        "note": note,
    }
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
        info["memory_gb"] = round(total_kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        info["cpu_model"] = model
    except (OSError, StopIteration):
        pass
    return info


@dataclass
class Result:
    name: str
    title: str
    parameters: dict[str, Any] = field(default_factory=dict)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    wall_s: float = 0.0
    machine: dict[str, Any] = field(default_factory=dict)
    figures: list[dict[str, Any]] = field(default_factory=list)
    reference: list[dict[str, Any]] = field(default_factory=list)
    ratios: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _t0: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if not self.machine:
            self.machine = machine_info()
            self.machine["load_before"] = self.machine.pop("load")

    # --- recording ------------------------------------------------------------------------------------------
    @staticmethod
    def _figure(label: str, value: float, unit: str, size: int | None) -> dict[str, Any]:
        figure: dict[str, Any] = {"label": label, "value": value, "unit": unit}
        if size is not None:
            figure["size"] = size
        return figure

    def add_figure(self, label: str, value: float, unit: str = "", size: int | None = None) -> None:
        self.figures.append(self._figure(label, value, unit, size))

    def add_reference(self, label: str, value: float, unit: str = "", size: int | None = None) -> None:
        self.reference.append(self._figure(label, value, unit, size))

    def add_ratio(self, label: str, value: float) -> None:
        self.ratios.append({"label": label, "value": value})

    def add_target(self, label: str, target: str, value: float, unit: str, met: bool) -> None:
        self.targets.append({"label": label, "target": target, "value": value, "unit": unit, "met": bool(met)})

    def add_check(self, label: str, ok: bool, detail: str = "") -> None:
        self.checks.append({"label": label, "ok": bool(ok), "detail": detail})

    def add_note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks)

    # --- output ---------------------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        self.wall_s = round(time.monotonic() - self._t0, 1)
        self.machine["load_after"] = list(os.getloadavg())
        data = asdict(self)
        data.pop("_t0")
        return data

    def write(self, path: str | os.PathLike[str] | None) -> None:
        if not path:
            return
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    def markdown(self) -> str:
        return markdown_of(self.as_dict())


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 100:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2g}"


def _size(figure: dict[str, Any]) -> str:
    return f"{figure['size']:,}" if "size" in figure else ""


def markdown_of(data: dict[str, Any]) -> str:
    """One result as a Markdown section: figures, reference, ratios, targets and checks."""
    lines = [f"### {data['title']} (`{data['name']}`)", ""]
    rows = [("", f) for f in data.get("figures", [])] + [("参照", f) for f in data.get("reference", [])]
    if rows:
        lines += ["| | 項目 | 規模 | 値 |", "|---|---|---:|---:|"]
        for kind, figure in rows:
            value = f"{_number(figure['value'])} {figure.get('unit', '')}".strip()
            lines.append(f"| {kind} | {figure['label']} | {_size(figure)} | {value} |")
        lines.append("")
    if data.get("ratios"):
        lines += ["| 比 | 値 |", "|---|---:|"]
        lines += [f"| {ratio['label']} | {_number(ratio['value'])} |" for ratio in data["ratios"]]
        lines.append("")
    if data.get("targets"):
        lines += ["| 目標 | 目標値 | 結果 | 達成 |", "|---|---|---:|:---:|"]
        for target in data["targets"]:
            value = f"{_number(target['value'])} {target.get('unit', '')}".strip()
            lines.append(f"| {target['label']} | {target['target']} | {value} | {'✓' if target['met'] else '✗'} |")
        lines.append("")
    if data.get("checks"):
        lines += ["| 確認 | 結果 | 詳細 |", "|---|:---:|---|"]
        for check in data["checks"]:
            lines.append(f"| {check['label']} | {'✓' if check['ok'] else '✗'} | {check.get('detail', '')} |")
        lines.append("")
    for note in data.get("notes", []):
        lines.append(f"- {note}")
    if data.get("notes"):
        lines.append("")
    return "\n".join(lines)
