"""`crmkit report ...` end to end on a small workspace, every format."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FILES = {
    "deals/a.yaml": "title: Alpha\nstage: lead\nvalue: 100000\nexpected_close: 2026-12-15\nowner: daniel\nsource: web_form\n"
                    "created: 2026-10-01T09:00:00+02:00\n",
    "deals/b.yaml": "title: Beta\nstage: proposal\nvalue: '2000.00'\ncurrency: EUR\nexpected_close: 2026-10-01\nowner: karin\n"
                    "created: 2026-09-15T09:00:00+02:00\n",
    "deals/c.yaml": "title: Gamma\nstage: negotiation\nprobability: 90\nowner: daniel\ncreated: 2026-11-01T09:00:00+01:00\n",
    "deals/d.yaml": "title: Delta\nstage: negotiation\nvalue: 10000\ncurrency: NOK\nexpected_close: 2027-02-10\nowner: karin\n"
                    "created: 2026-10-10T09:00:00+02:00\n",
    "deals/e.yaml": "title: Epsilon\nstage: won\nvalue: 50000\nclosed: 2026-11-02\nowner: daniel\ncreated: 2026-08-01T10:00:00+02:00\n"
                    "stage_history:\n  - {stage: lead, at: 2026-08-01T10:00:00+02:00}\n"
                    "  - {stage: proposal, at: 2026-09-01T10:00:00+02:00}\n  - {stage: won, at: 2026-11-02T10:00:00+01:00}\n",
    "deals/f.yaml": "title: Phi\nstage: lost\nvalue: 30000\nclosed: 2026-10-02\nlost_reason: price\nowner: karin\ncreated: 2026-09-01\n",
    "activities/act-20261101-aaaaa.yaml": "type: task\nsubject: Call back\ndue: 2026-11-20\nowner: daniel\ndeal: a\n",
    "activities/act-20261101-bbbbb.yaml": "type: call\nsubject: Demo\ndue: 2026-11-23T15:00:00+01:00\nowner: karin\ndeal: b\n",
}
NOW = ["--now", "2026-11-23T10:00"]


@pytest.fixture
def ws(make_ws):
    return make_ws(FILES)


def test_pipeline_table(ws, run) -> None:
    r = run(["report", "pipeline", *NOW], ws)
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert out.startswith("Pipeline\n========\n")
    # the test workspace is sv_SE: Swedish grouping (no-break spaces) and percent, as offers write them
    assert "proposal     best_case  50\u00a0%      1   23\u00a0000" in out
    assert "total" in out and "133\u00a0200" in out and "29\u00a0150" in out
    assert "█" in out  # value bars
    assert r.stderr == ""


def test_pipeline_json_csv_md(ws, run) -> None:
    data = json.loads(run(["report", "pipeline", "--json", *NOW], ws).stdout)
    assert data["totals"]["value"] == "133200.00" and data["closed"]["won"]["count"] == 1
    data2 = json.loads(run(["report", "pipeline", "--format", "json", *NOW], ws).stdout)
    assert data2 == data
    rows = list(csv.DictReader(io.StringIO(run(["report", "pipeline", "--format", "csv", *NOW], ws).stdout)))
    assert rows[2]["stage"] == "proposal" and rows[2]["value"] == "23000.00" and rows[-1]["stage"] == "total"
    md = run(["report", "pipeline", "--format", "md", *NOW], ws).stdout
    assert "| proposal | best_case | 50\u00a0% | 1 | 23\u00a0000 | 11\u00a0500 |" in md


def test_pipeline_by_owner_and_as_of(ws, run) -> None:
    data = json.loads(run(["report", "pipeline", "--by", "owner", "--json", *NOW], ws).stdout)
    assert {g["owner"]: g["weighted"] for g in data["groups"]} == {"karin": "19150.00", "daniel": "10000.00"}
    data = json.loads(run(["report", "pipeline", "--as-of", "2026-10-15", "--json", *NOW], ws).stdout)
    assert data["as_of"] == "2026-10-15"
    assert {s["stage"]: s["count"] for s in data["stages"]}["proposal"] == 2


def test_where_narrows_the_deals(ws, run) -> None:
    data = json.loads(run(["report", "pipeline", "--where", 'owner == "karin"', "--json", *NOW], ws).stdout)
    assert data["totals"]["count"] == 2 and data["totals"]["value"] == "33200.00"
    data = json.loads(run(["report", "forecast", "--where", "value >= 50000", "--json", *NOW], ws).stdout)
    assert data["totals"]["count"] == 1
    r = run(["report", "pipeline", "--where", 'colour == "red"'], ws)
    assert r.exit_code == 2 and "unknown field 'colour'" in r.stderr
    a = json.loads(run(["report", "agenda", "--where", 'type == "call"', "--json", *NOW], ws).stdout)
    assert [i["type"] for i in a["items"]] == ["call"]


def test_one_currency_without_rates(make_ws, run) -> None:
    ws = make_ws({"deals/x.yaml": "title: X\nstage: lead\nvalue: 100\ncurrency: HUF\n"})
    data = json.loads(run(["report", "pipeline", "--where", 'currency == "HUF"', "--currency", "HUF", "--json", *NOW], ws).stdout)
    assert data["currency"] == "HUF" and data["totals"]["value"] == "100.00"


def test_pipeline_leaves_out_a_currency_without_rate(make_ws, run) -> None:
    ws = make_ws({**FILES, "deals/h.yaml": "title: Huf\nstage: lead\nvalue: 1000000\ncurrency: HUF\n"})
    r = run(["report", "pipeline", *NOW], ws)
    assert r.exit_code == 4 and "133\u00a0200" in r.stdout  # the rest as without the HUF deal (tests/reports/test_missing_rate.py)
    assert "deals/h.yaml (1000000 HUF)" in r.stderr and "pipeline.rates" in r.stderr


@pytest.mark.parametrize(("locale", "figure", "percent", "short", "month"), [
    ("sv_SE", "1\u00a0081\u00a0500", "50\u00a0%", "1,1\u00a0mn", "dec. 2026"),
    ("nb_NO", "1\u00a0081\u00a0500", "50\u00a0%", "1,1\u00a0mill.", "des. 2026"),
    ("hu_HU", "1\u00a0081\u00a0500", "50%", "1,1\u00a0M", "2026. dec."),
    ("en_GB", "1,081,500", "50%", "1.1M", "Dec 2026"),
])
def test_reports_write_numbers_in_the_workspace_locale(make_ws, run, tmp_path: Path, locale, figure, percent,
                                                       short, month) -> None:
    from conftest import MINIMAL_CONFIG

    ws = make_ws({"crmkit.yaml": MINIMAL_CONFIG.replace("locale: sv_SE", f"locale: {locale}"),
                  "companies/alfa.yaml": "name: Alfa AB\n",
                  "deals/a.yaml": "title: A\nstage: proposal\nvalue: 1081500\nexpected_close: 2026-12-15\n"})
    table = run(["report", "pipeline", *NOW], ws).stdout
    assert f"  {figure}  " in table and f"  {percent}  " in table
    assert f"| {figure} |" in run(["report", "pipeline", "--format", "md", *NOW], ws).stdout
    page = run(["report", "pipeline", "--format", "html", *NOW], ws).stdout
    assert f">{figure}<" in page.replace("&nbsp;", "\u00a0")  # the tables
    assert f"1 open deals, {figure} SEK" in page.replace("&nbsp;", "\u00a0")  # the funnel's note
    assert f">{short} · " in page.replace("&nbsp;", "\u00a0")  # the funnel's figure
    words = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert f" {month} " in words  # the forecast chart's months (a long one in two lines)
    # machines get plain numbers in every locale
    assert json.loads(run(["report", "pipeline", "--json", *NOW], ws).stdout)["totals"]["value"] == "1081500.00"
    assert "1081500.00" in run(["report", "pipeline", "--format", "csv", *NOW], ws).stdout
    run(["deal", "move", "a", "won", *NOW], ws)
    run(["set", "a", "company=alfa", *NOW], ws)
    value = run(["report", "value", *NOW], ws)
    assert value.exit_code == 0, value.stderr
    assert f"revenue: {figure} SEK" in value.stdout and f"1 of 1 buying customers (100{percent[2:]})" in value.stdout


def test_forecast(ws, run) -> None:
    data = json.loads(run(["report", "forecast", "--months", "3", "--json", *NOW], ws).stdout)
    months = {b["month"]: b for b in data["buckets"]}
    assert months["overdue"]["value"] == "23000.00" and months["2026-12"]["weighted"] == "10000.00"
    assert months["2027-01"]["count"] == 0
    assert [o["deal"] for o in data["overdue"]] == ["b"]
    table = run(["report", "forecast", "--months", "3", *NOW], ws).stdout
    assert "overdue" in table and "Past expected close" in table


def test_winrate_velocity_stale_agenda(ws, run) -> None:
    w = json.loads(run(["report", "winrate", "--by", "owner", "--json", *NOW], ws).stdout)
    assert w["totals"]["win_rate"] == "50.0" and w["totals"]["avg_cycle_days"] == "93.0"
    v = json.loads(run(["report", "velocity", "--json", *NOW], ws).stdout)
    assert v["velocity"]["open"] == 4 and v["velocity"]["per_day"] == "1075.27"
    s = json.loads(run(["report", "stale", "--days", "30", "--json", *NOW], ws).stdout)
    assert {d["deal"] for d in s["deals"]} == {"a", "b", "c", "d"}
    a = json.loads(run(["report", "agenda", "--json", *NOW], ws).stdout)
    assert a["counts"] == {"overdue": 1, "today": 1, "coming": 0, "later": 0}
    assert a["items"][0]["about_title"] == "Alpha"
    a = json.loads(run(["report", "agenda", "--owner", "karin", "--json", *NOW], ws).stdout)
    assert [i["owner"] for i in a["items"]] == ["karin"]


@pytest.mark.parametrize("cmd", ["pipeline", "forecast", "winrate", "velocity", "stale", "agenda"])
@pytest.mark.parametrize("fmt", ["table", "json", "csv", "md", "html"])
def test_every_report_every_format(ws, run, cmd: str, fmt: str) -> None:
    r = run(["report", cmd, "--format", fmt, *NOW], ws)
    assert r.exit_code == 0, r.stderr
    assert r.stdout
    if fmt == "html":
        assert r.stdout.startswith("<!DOCTYPE html>") and "http://" not in r.stdout.replace(
            'xmlns="http://www.w3.org/2000/svg"', "")


def test_html_to_file(ws, run, tmp_path: Path) -> None:
    out = tmp_path / "p.html"
    r = run(["report", "pipeline", "-o", str(out), *NOW], ws)  # .html implies --format html
    assert r.exit_code == 0 and r.stdout == "" and "wrote" in r.stderr
    page = out.read_text()
    assert page.count("<svg") == 2 and "Funnel by stage" in page and "Forecast by month" in page
    assert "<script" not in page and "<link" not in page and "@import" not in page


def test_bad_options(ws, run) -> None:
    assert run(["report", "pipeline", "--period", "fortnight"], ws).exit_code == 2
    assert run(["report", "pipeline", "--as-of", "yesterday"], ws).exit_code == 2
    assert run(["report", "pipeline", "--by", "colour"], ws).exit_code == 2
    assert run(["report", "forecast", "--months", "0"], ws).exit_code == 2


def test_broken_file_is_skipped_with_a_warning(make_ws, run) -> None:
    ws = make_ws({**FILES, "deals/broken.yaml": "title: [unclosed\n"})
    r = run(["report", "pipeline", "--json", *NOW], ws)
    assert r.exit_code == 0 and json.loads(r.stdout)["totals"]["count"] == 4
    assert "deals/broken.yaml" in r.stderr


def test_a_stage_that_is_not_text_is_warned_about_never_a_crash(make_ws, run) -> None:
    ws = make_ws({**FILES, "deals/k.yaml": "title: K\nstage: [lead]\nvalue: 1000\n"})
    for cmd in ("pipeline", "forecast", "winrate", "velocity", "stale"):
        r = run(["report", cmd, *NOW], ws)
        assert r.exit_code == 0, (cmd, r.stderr)
    assert "unknown stage '['lead']'" in run(["report", "pipeline", *NOW], ws).stderr
    r = run(["check"], ws)
    assert r.exit_code == 1 and "deals/k.yaml:2: type: stage: expected text, found list" in r.stdout
    assert run(["deal", "move", "k", "proposal", *NOW], ws).exit_code == 0


def test_reports_from_the_summary_cache_equal_whole_records_and_follow_edits(ws, run) -> None:
    import os
    import time

    whole = ["--where", "not exists(merged_into)"]  # true of every deal; a condition reads whole records
    past = time.time() - 3600
    for path in ws.glob("deals/*.yaml"):
        os.utime(path, (past, past))  # past the racy window: summaries are cached
    for cmd in (["report", "pipeline", "--by", "owner"], ["report", "forecast", "--by", "source"]):
        expected = run([*cmd, "--json", *NOW, *whole], ws).stdout
        assert run([*cmd, "--json", *NOW], ws).stdout == expected  # fills the cache
        assert run([*cmd, "--json", *NOW], ws).stdout == expected  # served from it
    assert (ws / ".crmkit/cache/deals.summary.pickle").exists()
    assert run(["deal", "move", "a", "won", "--now", "2026-11-22T10:00"], ws).exit_code == 0
    data = json.loads(run(["report", "pipeline", "--json", *NOW], ws).stdout)
    assert data["closed"]["won"]["count"] == 2 and data["totals"]["count"] == 3
    assert data == json.loads(run(["report", "pipeline", "--json", *NOW, *whole], ws).stdout)


def test_export_ics(ws, run, tmp_path: Path) -> None:
    r = run(["export", "ics", *NOW], ws)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("BEGIN:VCALENDAR")  # the runner folds CRLF; the file test below sees bytes
    assert r.stdout.count("BEGIN:VTODO") == 2
    out = tmp_path / "f.ics"
    r = run(["export", "ics", "--as", "event", "--owner", "karin", "-o", str(out), *NOW], ws)
    assert r.exit_code == 0
    from icalendar import Calendar

    assert out.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
    cal = Calendar.from_ical(out.read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1 and str(events[0]["summary"]) == "Demo (Beta)"


# --------------------------------------------------------------------------- in a real browser
# The html report as a browser renders it. Skips only when chromium is not installed
# (`make test` installs it).

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=90,
        )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_pipeline_page_renders_charts_in_chromium(make_ws, run, tmp_path: Path) -> None:
    ws = make_ws(FILES)
    page = tmp_path / "pipeline.html"
    r = run(["report", "pipeline", "--format", "html", "-o", str(page), *NOW], ws)
    assert r.exit_code == 0, r.stderr
    res = chromium("--dump-dom", page.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    # the browser parsed the inline SVG into real elements: a funnel and a monthly chart
    assert len(re.findall(r"<svg[^>]*class=\"chart funnel\"", dom)) == 1
    assert len(re.findall(r"<svg[^>]*class=\"chart bars\"", dom)) == 1
    funnel = dom[dom.index('class="chart funnel"'):]
    funnel = funnel[: funnel.index("</svg>")]
    assert funnel.count('<rect class="bar"') == 3  # lead, proposal, negotiation have value; qualified none
    bars = dom[dom.index('class="chart bars"'):]
    bars = bars[: bars.index("</svg>")]
    assert '<rect class="bar"' in bars and "<polyline" in bars and "dec." in bars  # sv_SE: dec. 2026
    assert "Open deals by stage" in dom and "133&nbsp;200" in dom  # chromium writes the no-break space so
    shot = tmp_path / "shot.png"
    res = chromium(f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000


# Every <text> of every chart, as the browser lays it out: inside its svg and clear of the
# others. Run in the page itself (the report pages have no scripts; the test adds one).
LAYOUT_CHECK = """<script>
const found = [];
document.querySelectorAll("svg.chart").forEach((svg) => {
  const box = svg.getBoundingClientRect(), kind = svg.getAttribute("class");
  const texts = [...svg.querySelectorAll("text")].map((t) => [t.textContent, t.getBoundingClientRect()]);
  for (const [s, r] of texts) {
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
      found.push(`${kind}: '${s}' is outside the chart`);
  }
  for (let i = 0; i < texts.length; i++)
    for (let j = i + 1; j < texts.length; j++) {
      const a = texts[i][1], b = texts[j][1];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 0.5 && h > 0.5) found.push(`${kind}: '${texts[i][0]}' overlaps '${texts[j][0]}'`);
    }
});
const pre = document.createElement("pre"); pre.id = "layout-check"; pre.textContent = JSON.stringify(found);
document.body.appendChild(pre);
</script>"""


def layout_problems(page: Path, tmp_path: Path) -> list[str]:
    """What the browser finds wrong with the charts' labels on ``page`` (empty: nothing)."""
    import html as htmllib

    probe = tmp_path / f"probe-{page.name}"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", LAYOUT_CHECK + "</body>"), encoding="utf-8")
    res = chromium("--dump-dom", "--window-size=1200,1600", "--virtual-time-budget=3000", probe.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    m = re.search(r'<pre id="layout-check">(.*?)</pre>', res.stdout, re.S)
    assert m, "the check ran"
    return json.loads(htmllib.unescape(m.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_chart_labels_stay_inside_and_apart_in_chromium(make_ws, run, tmp_path: Path) -> None:
    from crmkit.render.report import Chart, Report, Series, render

    # a funnel whose figures are wide (millions, weighted beside them) and a long stage name
    big = {
        "deals/a.yaml": "title: A\nstage: lead\nvalue: 5911500\n",
        "deals/b.yaml": "title: B\nstage: proposal\nvalue: 2081500\n",
        "deals/c.yaml": "title: C\nstage: waiting for the customer's board\nvalue: 1081500\n",
        "deals/d.yaml": "title: D\nstage: negotiation\nvalue: 181500\n",
    }
    ws = make_ws(big)
    page = tmp_path / "pipeline.html"
    run(["report", "pipeline", "--format", "html", "-o", str(page), *NOW], ws)
    assert page.exists()
    # the SLA chart: one bar per priority and target, as crmkit.reports.sla labels them
    labels = [f"{p} {t}" for p in ("urgent", "high", "normal", "low") for t in ("first response", "resolution")]
    sla = Report("sla", "SLA report", charts=[Chart("bars", "Targets met and breached", labels,
                                                    [Series("met", [3, 10, 41, 7, 2, 8, 30, 6]),
                                                     Series("breached", [1, 2, 5, 0, 0, 1, 4, 2])])])
    sla_page = tmp_path / "sla.html"
    sla_page.write_text(render(sla, "html"), encoding="utf-8")
    assert layout_problems(page, tmp_path) + layout_problems(sla_page, tmp_path) == []
    shot = tmp_path / "sla.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,900", sla_page.as_uri())
    assert shot.exists() and shot.stat().st_size > 5_000
