"""Reading the holiday supplement (IVR_HOLIDAYS_FILE): a CSV of days the State Council has
announced that the installed chinese_calendar does not know yet.

    date,kind,name
    2027-02-06,holiday,春节
    2027-02-14,workday,春节调休

kind is `holiday` (a day off) or `workday` (a 调休 working day on a weekend). A bad file is
refused whole with every bad row named, like an import: a half-read calendar would call
people on a holiday.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from .windows import set_calendar_supplement

KINDS = {"holiday": True, "workday": False, "放假": True, "上班": False}


class CalendarFileError(ValueError):
    def __init__(self, path: str, problems: list[str]):
        super().__init__(f"{path}: " + "; ".join(problems))
        self.problems = problems


def parse_supplement(text: str, source: str = "holidays") -> dict[date, tuple[bool, str | None]]:
    days: dict[date, tuple[bool, str | None]] = {}
    problems = []
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for line, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#") or (line == 1 and cells[0].lower() == "date"):
            continue
        if len(cells) < 2:
            problems.append(f"row {line}: expected date,kind[,name]")
            continue
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            problems.append(f"row {line}: {cells[0]!r} is not a date like 2027-02-06")
            continue
        kind = KINDS.get(cells[1].lower())
        if kind is None:
            problems.append(f"row {line}: kind {cells[1]!r} is not holiday or workday")
            continue
        if day in days and days[day][0] != kind:
            problems.append(f"row {line}: {day} is given as both holiday and workday")
            continue
        days[day] = (kind, (cells[2] if len(cells) > 2 and cells[2] else None) if kind else None)
    if problems:
        raise CalendarFileError(source, problems)
    return days


def load_supplement(path: str | Path | None) -> int:
    """Load the file into the call-window policy; returns how many days it named. No path,
    or a path that does not exist, leaves chinese_calendar alone."""
    if not path or not Path(path).is_file():
        set_calendar_supplement({})
        return 0
    days = parse_supplement(Path(path).read_text(encoding="utf-8"), str(path))
    set_calendar_supplement(days)
    return len(days)
