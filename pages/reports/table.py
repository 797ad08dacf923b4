"""A report as a table of text: the page's CSV download."""

from pages.reports.figures import Figures, Report

CSV_COLUMNS = [
    ("date", None),
    ("calls", "calls"),
    ("answered", "answered"),
    ("not answered", "not_answered"),
    ("abandoned", "abandoned"),
    ("in progress", "in_progress"),
    ("no outcome reported", "no_outcome"),
    ("answer rate %", "answer_rate"),
    ("answered on the first attempt", "answered_first_attempt"),
    ("attempts per answered call", "attempts_per_answered_call"),
    ("callers", "callers"),
    ("callers who called again within 24 h", "repeat_callers"),
    ("repeat-caller rate %", "repeat_caller_rate"),
]


def _cell(figures: Figures, name: str) -> str:
    value = getattr(figures, name)
    if value is None:
        return ""
    if name.endswith("_rate"):
        return f"{value * 100:.1f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def report_rows(report: Report) -> list[list[str]]:
    """Return the report's table, a header, a row per day and a total, as text."""
    rows = [[header for header, _ in CSV_COLUMNS]]
    named = [(d.date.isoformat(), d.figures) for d in report.days]
    named.append(("total", report.total))
    for label, figures in named:
        rows.append([label] + [_cell(figures, name) for _, name in CSV_COLUMNS[1:]])
    return rows
