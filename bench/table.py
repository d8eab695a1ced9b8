"""The one table of ``python -m bench``: a row per scenario and database, ours next to the floor.

* ``ours`` and ``floor`` are in the row's unit. The floor is what the same work costs with
  nothing of ours around it (a floor app doing the same queries, bare WeasyPrint) where the
  bench has one; otherwise the issue's target for the scenario (a time budget), marked
  "target" in the table.
* ``ratio`` is ours / floor. For a rate (req/s) higher is better; for a time lower is better:
  the ``goal`` column says which ratio passes.
* ``peak_mb`` is the peak resident memory (VmHWM) of the process that did the work: the largest
  gunicorn worker for HTTP scenarios, the bench process itself for in-process ones.
"""

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Row:
    scenario: str
    database: str
    ours: float
    floor: float | None
    unit: str
    goal: str = ""
    floor_kind: str = "floor"  # "floor" (measured) or "target" (a budget from the issue)
    p50: float | None = None  # ms
    p99: float | None = None  # ms
    peak_mb: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.ours / self.floor if self.floor else None


def _hwm_kb(pid: int | str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def peak_of_tree_mb(pid: int) -> float:
    """The highest peak RSS among ``pid`` and its children (gunicorn's workers)."""
    return max([_hwm_kb(pid), *(_hwm_kb(child) for child in _children(pid))]) / 1024


def reset_own_peak() -> None:
    """Start measuring this process's peak RSS afresh (Linux: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def own_peak_mb() -> float:
    return _hwm_kb(os.getpid()) / 1024


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}" if abs(value) >= 1 or value == 0 else f"{value:.3f}"


HEAD = ("scenario", "db", "unit", "ours", "floor", "ratio", "goal", "p50 ms", "p99 ms", "peak MB")
FORMAT = "{:<38} {:<10} {:<6} {:>9} {:>14} {:>6} {:>7} {:>8} {:>8} {:>8}"


def format_table(rows: list[Row]) -> str:
    lines = [FORMAT.format(*HEAD), "-" * 124]
    for row in rows:
        floor = _num(row.floor)
        if row.floor is not None and row.floor_kind == "target":
            floor = f"{floor} target"
        lines.append(
            FORMAT.format(
                row.scenario[:38],
                row.database,
                row.unit,
                _num(row.ours),
                floor,
                f"{row.ratio:.2f}" if row.ratio is not None else "-",
                row.goal,
                _num(row.p50),
                _num(row.p99),
                _num(row.peak_mb, 0),
            )
        )
    return "\n".join(lines)
