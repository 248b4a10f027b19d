"""Tables as text: the one aligned-columns renderer (terminal) and the one pipe-table
renderer (Markdown), for reports and for record listings alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from crmkit.render.cells import cell
from crmkit.render.model import Report, bar, cell_text, is_right

#: Columns are never squeezed narrower than this to fit a terminal.
MIN_WIDTH = 12


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], rights: Sequence[bool] | None = None, *,
               total: Sequence[str] | None = None, room: int | None = None) -> list[str]:
    """Aligned columns two spaces apart under a header and a rule; an optional total row
    after a second rule. With ``room`` (a terminal's width) the widest columns give way
    down to MIN_WIDTH and their cells end in an ellipsis."""
    every = [*rows, *([total] if total is not None else [])]
    widths = [max([len(h)] + [len(r[i]) for r in every]) for i, h in enumerate(headers)]
    if room is not None:
        while sum(widths) + 2 * len(widths) > room and max(widths) > MIN_WIDTH:
            widths[widths.index(max(widths))] -= 1
    right = list(rights) if rights is not None else [False] * len(headers)

    def line(cells: Sequence[str]) -> str:
        parts = []
        for text, width, r in zip(cells, widths, right):
            if len(text) > width:
                text = text[: width - 1] + "…"
            parts.append(text.rjust(width) if r else text.ljust(width))
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths).rstrip()
    out = [line(headers), rule, *(line(r) for r in rows)]
    if total is not None:
        out += [rule, line(total)]
    return out


def md_escape(text: str) -> str:
    """A cell of a pipe table stays one cell: pipes escaped, newlines folded."""
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(headers: Sequence[str], rows: Iterable[Sequence[str]], rights: Sequence[bool] | None = None, *,
             total: Sequence[str] | None = None) -> list[str]:
    """A Markdown pipe table; numbers right-aligned where ``rights`` says; the total in bold."""
    right = list(rights) if rights is not None else [False] * len(headers)
    out = ["| " + " | ".join(md_escape(h) for h in headers) + " |",
           "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    out += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    if total is not None:
        out.append("| " + " | ".join(f"**{md_escape(t)}**" if t else "" for t in total) + " |")
    return out


# -- record listings ---------------------------------------------------------------


def listing_text(rows: Iterable[dict[str, Any]], columns: Sequence[str], room: int | None = None) -> str:
    """`crmkit KIND list` on a terminal: upper-case headers, one line per record."""
    texts = [[cell(r.get(c)).replace("\n", " ") for c in columns] for r in rows]
    return "\n".join(text_table([c.upper() for c in columns], texts, room=room))


def listing_md(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    return "\n".join(md_table(columns, [[cell(r.get(c)) for c in columns] for r in rows]))


# -- reports -------------------------------------------------------------------------


def render_table(report: Report, *, bar_width: int = 16) -> str:
    """A report for a terminal: its meta lines, then each section as aligned columns, value bars
    drawn with unicode blocks beside the columns that ask for them."""
    lines = [report.title, "=" * len(report.title)]
    for k, v in report.meta:
        lines.append(f"{k}: {v}")
    for sec in report.sections:
        lines += ["", sec.title, "-" * len(sec.title)]
        if not sec.rows and not sec.total:
            lines.append(f"({sec.empty})")
            if sec.note:
                lines.append(sec.note)
            continue
        maxima = {
            c.key: max((abs(float(r.get(c.key) or 0)) for r in sec.rows), default=0) for c in sec.columns if c.bar
        }
        headers: list[str] = []
        rights: list[bool] = []
        rows: list[list[str]] = [[] for _ in sec.rows]
        total: list[str] | None = [] if sec.total else None
        for c in sec.columns:
            headers.append(c.title)
            rights.append(is_right(c.kind))
            for row, r in zip(rows, sec.rows):
                row.append(cell_text(r.get(c.key, ""), c.kind))
            if total is not None and sec.total:
                total.append(cell_text(sec.total.get(c.key, ""), c.kind))
            if c.bar:
                headers.append("")
                rights.append(False)
                for row, r in zip(rows, sec.rows):
                    row.append(bar(r.get(c.key), maxima[c.key], bar_width))
                if total is not None:
                    total.append("")
        lines += text_table(headers, rows, rights, total=total)
        if sec.note:
            lines.append(sec.note)
    return "\n".join(lines) + "\n"


def render_md(report: Report) -> str:
    """A heading and a pipe table per section; warnings last."""
    lines = [f"# {report.title}", ""]
    for k, v in report.meta:
        lines.append(f"- **{md_escape(k)}**: {md_escape(v)}")
    for sec in report.sections:
        lines += ["", f"## {md_escape(sec.title)}", ""]
        if not sec.rows and not sec.total:
            lines.append(f"_{sec.empty}_")
            continue
        total = [cell_text(sec.total.get(c.key, ""), c.kind) for c in sec.columns] if sec.total else None
        lines += md_table([c.title for c in sec.columns],
                          [[cell_text(r.get(c.key, ""), c.kind) for c in sec.columns] for r in sec.rows],
                          [is_right(c.kind) for c in sec.columns], total=total)
        if sec.note:
            lines += ["", md_escape(sec.note)]
    if report.warnings:
        lines += ["", "## Warnings", ""] + [f"- {md_escape(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"
