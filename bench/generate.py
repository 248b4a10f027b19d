#!/usr/bin/env python3
"""Generate a realistic crmkit workspace of any size, for benchmarks.

    python bench/generate.py DIR --deals N [--contacts N] [--companies N] [--leads N]
                             [--tickets N] [--activities N] [--seed S] [--no-git]

Records are written directly as YAML text (not through crmkit), so that 100,000
deals take seconds, not minutes. The configuration (users, teams, stages, rates) is
the sample workspace's `crmkit.yaml`, with its `rules/`, `segments/` and `templates/`. Every reference resolves, so `crmkit check`
finds nothing. Leads are new web-form prospects without an owner and with users on
both sides of 50, the input `crmkit route` expects. The folder becomes a git
repository with one commit, as a real workspace is.

Counts default to the number of deals, except companies (deals / 5, at least 1).
The same arguments and seed always give the same files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
SAMPLE_CONFIG = HERE.parent / "sample_workspace" / "crmkit.yaml"
TZ = ZoneInfo("Europe/Stockholm")
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

SELLERS = ["daniel", "sofia", "erik", "lars"]
MARKETING = ["karin", "alan"]
SUPPORT1 = ["nora", "mikael"]
SUPPORT2 = ["zsofia"]
STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
STAGE_WEIGHTS = [20, 20, 15, 10, 20, 15]
PRODUCTS = ["ERP", "CRM", "BI", "Support agreement", "Training"]
INDUSTRIES = ["manufacturing", "logistics", "energy", "retail", "software", "healthcare",
              "construction", "food", "agriculture", "professional services", "real estate"]
LOST_REASONS = ["price", "chose a competitor", "no decision", "budget frozen", "timing"]
SOURCES = ["web_form", "cold_call", "event", "newsletter", "referral", "existing_customer"]

# Per country: first names, last names, company suffix, cities (name, zip), phone prefix, language.
COUNTRIES = {
    "SE": (["Anna", "Erik", "Karin", "Lars", "Maria", "Johan", "Elin", "Oskar", "Linnéa", "Åsa", "Björn", "Ingrid"],
           ["Lindqvist", "Johansson", "Åkerberg", "Sjöström", "Öberg", "Nyström", "Håkansson", "Wallin", "Ek", "Björk"],
           "AB", [("Stockholm", "111 34"), ("Göteborg", "411 10"), ("Malmö", "211 43"), ("Uppsala", "753 20"),
                  ("Luleå", "972 31")], "+46 70", "sv"),
    "NO": (["Bjørn", "Ingrid", "Håkon", "Siri", "Øystein", "Kari", "Ragnhild", "Espen", "Torunn", "Geir"],
           ["Ødegård", "Solberg", "Lie", "Fjellheim", "Berg", "Haugen", "Bjørkli", "Aas", "Mikkelsen", "Dahl"],
           "AS", [("Oslo", "0150"), ("Bergen", "5003"), ("Trondheim", "7011"), ("Tromsø", "9008"),
                  ("Stavanger", "4006")], "+47 9", "nb"),
    "HU": (["Péter", "Erzsébet", "Gábor", "Anikó", "László", "Dóra", "Zoltán", "Eszter", "Balázs", "Márta"],
           ["Kovács", "Nagy", "Tóth", "Szabó", "Horváth", "Varga", "Molnár", "Kiss", "Fekete", "Szőke"],
           "Kft.", [("Budapest", "1117"), ("Szeged", "6724"), ("Debrecen", "4025"), ("Pécs", "7621"),
                    ("Győr", "9021")], "+36 30", "hu"),
    "GB": (["Oliver", "Priya", "Rachel", "James", "Emily", "Charlotte", "Tom", "Sophie"],
           ["Bennett", "Shah", "Thompson", "O'Connor", "Carter", "Hughes", "Fletcher", "Walsh"],
           "Ltd", [("London", "EC1A 1BB"), ("Bristol", "BS1 4SL"), ("Leeds", "LS1 5HD"), ("Manchester", "M1 1AE")],
           "+44 7700", "en"),
}
COUNTRY_WEIGHTS = [45, 25, 15, 15]
STREETS = {"SE": "Storgatan", "NO": "Storgata", "HU": "Fő utca", "GB": "High Street"}
COMPANY_WORDS = ["Nord", "Fjord", "Skog", "Sjö", "Berg", "Dal", "Havs", "Norrsken", "Duna", "Tisza", "Pannon",
                 "Harbour", "North", "Lake", "Stone", "River", "Vik", "Ljus", "Ek", "Gran"]
COMPANY_TAILS = ["Logistik", "Bygg", "Energi", "Data", "Trading", "Industri", "Mat", "Consulting", "Systems", "Partners"]

_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "ø": "o", "ő": "o", "ó": "o", "ú": "u", "ű": "u",
                       "ü": "u", "é": "e", "á": "a", "í": "i", "æ": "ae", "'": "", ".": ""})
_OFFSETS: dict[tuple[int, int, int], str] = {}


def slug(text: str) -> str:
    """Lowercase ascii id, as crmkit's own slugify makes it for these names."""
    out = []
    for ch in text.lower().translate(_FOLD):
        out.append(ch if ("a" <= ch <= "z" or "0" <= ch <= "9") else "-")
    return "-".join(p for p in "".join(out).split("-") if p)


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def stamp(day: dt.date, minutes: int) -> str:
    """ISO timestamp in Stockholm time with the offset of that day (DST-correct)."""
    key = (day.year, day.month, day.day)
    off = _OFFSETS.get(key)
    if off is None:
        local = dt.datetime(day.year, day.month, day.day, 12, tzinfo=TZ)
        secs = int(local.utcoffset().total_seconds())
        off = _OFFSETS[key] = f"+{secs // 3600:02d}:00"
    return f"{day.isoformat()}T{minutes // 60:02d}:{minutes % 60:02d}:00{off}"


class Ids:
    """Date-plus-random ids (`tk-20261120-ab12c`), unique, reproducible from the seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[str] = set()

    def new(self, prefix: str, day: dt.date) -> str:
        while True:
            rid = f"{prefix}-{day:%Y%m%d}-" + "".join(self.rng.choices(ALPHABET, k=5))
            if rid not in self.taken:
                self.taken.add(rid)
                return rid


def business_minutes(rng: random.Random) -> int:
    return rng.randrange(8 * 60, 17 * 60, 5)


def generate(root: Path, counts: dict[str, int], seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    ids = Ids(rng)
    today = dt.date(2026, 11, 22)
    for folder in ("contacts", "companies", "leads", "deals", "tickets", "activities"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE_CONFIG, root / "crmkit.yaml")
    # Rules, segments and templates of the sample, so route, tick and mail have work to do.
    for extra in ("rules", "segments", "templates"):
        if (SAMPLE_CONFIG.parent / extra).is_dir():
            shutil.copytree(SAMPLE_CONFIG.parent / extra, root / extra)
    (root / ".gitignore").write_text(".crmkit/\n")

    def write(rel: str, text: str) -> None:
        with open(root / rel, "w", encoding="utf-8") as fh:
            fh.write(text)

    countries = list(COUNTRIES)

    # Companies ---------------------------------------------------------------
    companies: list[tuple[str, str, str, str]] = []  # id, country, owner, name
    used: set[str] = set()
    for i in range(counts["companies"]):
        cc = rng.choices(countries, COUNTRY_WEIGHTS)[0]
        first, last, suffix, cities, phone, _lang = COUNTRIES[cc]
        name = f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_TAILS).lower()} {suffix}"
        cid = slug(name)
        if cid in used:
            name = f"{name.rsplit(' ', 1)[0]} {i} {suffix}"
            cid = slug(name)
        used.add(cid)
        city, zipc = rng.choice(cities)
        owner = rng.choice(SELLERS)
        domain = cid.replace("-", "") + {"SE": ".se", "NO": ".no", "HU": ".hu", "GB": ".co.uk"}[cc]
        created = today - dt.timedelta(days=rng.randrange(200, 900))
        write(f"companies/{cid}.yaml",
              f"name: {q(name)}\ndomain: {domain}\nindustry: {rng.choice(INDUSTRIES)}\ncountry: {cc}\n"
              f"employees: {rng.randrange(5, 2000)}\nagreement: {rng.choices(['gold', 'silver', 'none'], [1, 2, 6])[0]}\n"
              f"phone: \"{phone} {rng.randrange(100, 999)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}\"\n"
              f"address:\n  street: {q(STREETS[cc] + ' ' + str(rng.randrange(1, 120)))}\n  zip: \"{zipc}\"\n"
              f"  city: {city}\n  country: {cc}\nowner: {owner}\ncreated: {stamp(created, business_minutes(rng))}\n")
        companies.append((cid, cc, owner, name))

    # Contacts ----------------------------------------------------------------
    contacts: list[tuple[str, int]] = []  # id, company index
    contacts_of: dict[int, list[str]] = {}
    for i in range(counts["contacts"]):
        ci = i % len(companies) if i < len(companies) else rng.randrange(len(companies))
        cid, cc, owner, _name = companies[ci]
        first, last, _suffix, cities, phone, lang = COUNTRIES[cc]
        f, la = rng.choice(first), rng.choice(last)
        name = f"{la} {f}" if cc == "HU" else f"{f} {la}"
        pid = f"{slug(name)}-{i}"
        city, zipc = rng.choice(cities)
        created = today - dt.timedelta(days=rng.randrange(30, 700))
        lines = [f"name: {q(name)}", f"email: {slug(f)}.{slug(la)}{i}@{cid}.example",
                 f"phone: \"{phone} {rng.randrange(100, 999)} {rng.randrange(10, 99)} {rng.randrange(100, 999)}\"",
                 f"company: {cid}", f"country: {cc}", f"language: {lang}",
                 "address:", f"  street: {q(STREETS[cc] + ' ' + str(rng.randrange(1, 120)))}",
                 f"  zip: \"{zipc}\"", f"  city: {city}", f"  country: {cc}",
                 f"owner: {owner}", f"created: {stamp(created, business_minutes(rng))}"]
        r = rng.random()
        if r < 0.7:
            lines += ["consent:", f"  marketing: {'true' if r < 0.6 else 'false'}",
                      f"  date: {(created + dt.timedelta(days=3)).isoformat()}"]
        if rng.random() < 0.05:
            lines.append("opted_out: true")
        write(f"contacts/{pid}.yaml", "\n".join(lines) + "\n")
        contacts.append((pid, ci))
        contacts_of.setdefault(ci, []).append(pid)

    # Deals -------------------------------------------------------------------
    deal_ids: list[str] = []
    for i in range(counts["deals"]):
        ci = rng.randrange(len(companies))
        cid, cc, _owner, cname = companies[ci]
        owner = rng.choice(SELLERS)
        products = rng.sample(PRODUCTS, rng.randrange(1, 4))
        did = f"{cid}-{slug(products[0])}-{i}"
        stage = rng.choices(STAGES, STAGE_WEIGHTS)[0]
        currency = {"NO": "NOK", "HU": "EUR"}.get(cc, "SEK") if rng.random() < 0.7 else "SEK"
        value = rng.randrange(10, 2000) * 1000 if currency != "EUR" else rng.randrange(2, 200) * 500
        created = today - dt.timedelta(days=rng.randrange(20, 400))
        if stage in ("won", "lost"):
            path = STAGES[: rng.randrange(2, 5)] + [stage] if stage == "lost" else STAGES[:5]
        else:
            path = STAGES[: STAGES.index(stage) + 1]
        span = max(1, (today - created).days - 1)
        steps = sorted(rng.sample(range(1, span + 1), min(span, len(path) - 1)))
        while len(steps) < len(path) - 1:  # a very young deal: squeeze steps into the last day
            steps.append(steps[-1] if steps else 1)
        hist = [f"  - stage: lead\n    at: {stamp(created, 9 * 60)}\n    by: {owner}"]
        closed_day = None
        for k, (st, off) in enumerate(zip(path[1:], steps), start=1):
            day = created + dt.timedelta(days=off)
            hist.append(f"  - stage: {st}\n    at: {stamp(day, 9 * 60 + k * 20)}\n    by: {owner}\n    from: {path[k - 1]}")
            closed_day = day
        contacts_here = contacts_of.get(ci) or [contacts[rng.randrange(len(contacts))][0]]
        chosen = rng.sample(contacts_here, min(len(contacts_here), rng.randrange(1, 3)))
        if stage in ("won", "lost"):
            expected = closed_day
        else:
            expected = dt.date(2026, 9, 1) + dt.timedelta(days=rng.randrange(0, 212))
        lines = [f"title: {q(f'{cname}: {products[0]} #{i}')}", f"company: {cid}", "contacts:"]
        lines += [f"  - {c}" for c in chosen]
        lines += [f"owner: {owner}", f"stage: {stage}", f"value: {value}", f"currency: {currency}",
                  f"expected_close: {expected.isoformat()}"]
        if stage in ("won", "lost"):
            lines.append(f"closed: {closed_day.isoformat()}")
        if stage == "lost":
            lines.append(f"lost_reason: {rng.choice(LOST_REASONS)}")
        lines.append("products:")
        lines += [f"  - {p}" for p in products]
        lines.append(f"created: {stamp(created, 9 * 60)}")
        lines.append("stage_history:")
        lines += hist
        write(f"deals/{did}.yaml", "\n".join(lines) + "\n")
        deal_ids.append(did)

    # Leads: new, unowned prospects, the input of `crmkit route` -----------------
    for i in range(counts["leads"]):
        cc = rng.choices(countries, COUNTRY_WEIGHTS)[0]
        first, last, suffix, _cities, phone, _lang = COUNTRIES[cc]
        f, la = rng.choice(first), rng.choice(last)
        day = today - dt.timedelta(days=rng.randrange(0, 14))
        lid = ids.new("ld", day)
        company = f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_TAILS).lower()} {suffix}"
        write(f"leads/{lid}.yaml",
              f"name: {q(f'{la} {f}' if cc == 'HU' else f'{f} {la}')}\nemail: {slug(f)}.{slug(la)}.{i}@lead.example\n"
              f"company_name: {q(company)}\nstatus: prospect\nsource: {rng.choice(SOURCES)}\n"
              f"users: {rng.choice([rng.randrange(1, 50), rng.randrange(50, 500)])}\ncountry: {cc}\n"
              f"industry: {rng.choice(INDUSTRIES)}\ninterest: {rng.choice(PRODUCTS[:3])}\n"
              f"created: {stamp(day, business_minutes(rng))}\n")

    # Tickets -------------------------------------------------------------------
    ticket_ids: list[str] = []
    statuses = ["new", "open", "pending", "solved", "closed"]
    # breaches, surveys and ratings (for `report satisfaction`) come from their own random
    # stream, so the rest of the workspace is the same as without them
    extra = random.Random(seed * 7919 + 15)
    for i in range(counts["tickets"]):
        pid, ci = contacts[rng.randrange(len(contacts))]
        cid = companies[ci][0]
        day = today - dt.timedelta(days=rng.randrange(0, 30))
        tid = ids.new("tk", day)
        status = rng.choices(statuses, [2, 4, 2, 3, 4])[0]
        line = "second" if rng.random() < 0.25 else "first"
        owner = rng.choice(SUPPORT2 if line == "second" else SUPPORT1)
        start = business_minutes(rng)
        events = [f"  - type: created\n    at: {stamp(day, start)}\n    by: {pid}\n    channel: email"]
        if status != "new":
            events.append(f"  - type: replied\n    at: {stamp(day, start + 20)}\n    by: {owner}")
        if status in ("pending", "solved", "closed"):
            events.append(f"  - type: status\n    at: {stamp(day, start + 25)}\n    by: {owner}\n    to: {status}")
        if status != "new" and extra.random() < 0.1:
            events.append(f"  - type: breached\n    at: {stamp(day, start + 22)}\n    by: crmkit\n"
                          f"    target: first_response")
        if status in ("solved", "closed") and extra.random() < 0.6:
            events.append(f"  - type: surveyed\n    at: {stamp(day, start + 30)}\n    by: crmkit\n    to: {pid}")
            if extra.random() < 0.7:
                events.append(f"  - type: rated\n    at: {stamp(day, start + 90)}\n    by: {pid}\n"
                              f"    rating: {extra.choices([1, 2, 3, 4, 5], [1, 1, 2, 4, 6])[0]}")
        lines = [f"subject: {q('Problem with ' + rng.choice(PRODUCTS) + ' #' + str(i))}", f"contact: {pid}",
                 f"company: {cid}", f"channel: {rng.choice(['email', 'phone', 'web', 'chat'])}",
                 f"priority: {rng.choices(['low', 'normal', 'high', 'urgent'], [3, 6, 2, 1])[0]}",
                 f"line: {line}"]
        if status != "new":
            lines.append(f"owner: {owner}")
        lines += [f"status: {status}", f"created: {stamp(day, start)}", "events:"] + events
        write(f"tickets/{tid}.yaml", "\n".join(lines) + "\n")
        ticket_ids.append(tid)

    # Activities ----------------------------------------------------------------
    types = ["call", "meeting", "email", "note", "task"]
    for _ in range(counts["activities"]):
        pid, ci = contacts[rng.randrange(len(contacts))]
        typ = rng.choices(types, [3, 2, 3, 1, 3])[0]
        day = today - dt.timedelta(days=rng.randrange(0, 120))
        aid = ids.new("act", day)
        lines = [f"type: {typ}", f"subject: {q(typ.capitalize() + ' with ' + pid)}",
                 f"at: {stamp(day, business_minutes(rng))}", f"owner: {rng.choice(SELLERS)}",
                 f"contact: {pid}", f"company: {companies[ci][0]}"]
        if deal_ids and rng.random() < 0.5:
            lines.append(f"deal: {deal_ids[rng.randrange(len(deal_ids))]}")
        elif ticket_ids and rng.random() < 0.2:
            lines.append(f"ticket: {ticket_ids[rng.randrange(len(ticket_ids))]}")
        if typ == "task":
            due = day + dt.timedelta(days=rng.randrange(1, 30))
            lines.append(f"due: {due.isoformat()}")
            if due < today and rng.random() < 0.6:
                lines.append(f"done: {stamp(due, business_minutes(rng))}")
        write(f"activities/{aid}.yaml", "\n".join(lines) + "\n")

    return {"companies": len(companies), "contacts": len(contacts), "deals": len(deal_ids),
            "leads": counts["leads"], "tickets": len(ticket_ids), "activities": counts["activities"]}


def git_init(root: Path) -> None:
    """One commit of everything, with a fixed identity so the run needs no git config."""
    env = dict(os.environ, GIT_AUTHOR_NAME="crmkit bench", GIT_AUTHOR_EMAIL="bench@crmkit.invalid",
               GIT_COMMITTER_NAME="crmkit bench", GIT_COMMITTER_EMAIL="bench@crmkit.invalid")
    run = lambda *a: subprocess.run(["git", *a], cwd=root, env=env, check=True,  # noqa: E731
                                    stdout=subprocess.DEVNULL)
    run("init", "-q", "-b", "main")
    run("add", ".")
    run("commit", "-q", "--no-verify", "-m", "bench: generated workspace")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path, help="folder to create (must not exist, or be empty)")
    ap.add_argument("--deals", type=int, required=True)
    for kind in ("contacts", "companies", "leads", "tickets", "activities"):
        ap.add_argument(f"--{kind}", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-git", action="store_true", help="do not make it a git repository")
    ap.add_argument("--force", action="store_true", help="replace DIR if it exists")
    args = ap.parse_args(argv)

    n = args.deals
    counts = {
        "deals": n,
        "companies": args.companies if args.companies is not None else max(1, n // 5),
        "contacts": args.contacts if args.contacts is not None else max(1, n),
        "leads": args.leads if args.leads is not None else n,
        "tickets": args.tickets if args.tickets is not None else n,
        "activities": args.activities if args.activities is not None else n,
    }
    if counts["companies"] < 1 or counts["contacts"] < 1:
        ap.error("--companies and --contacts must be at least 1")
    root: Path = args.dir
    if root.exists() and any(root.iterdir()):
        if not args.force:
            ap.error(f"{root} exists and is not empty (use --force to replace it)")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    made = generate(root, counts, args.seed)
    t1 = time.perf_counter()
    if not args.no_git:
        git_init(root)
    t2 = time.perf_counter()
    summary = ", ".join(f"{v} {k}" for k, v in made.items())
    print(f"{root}: {summary}; files {t1 - t0:.1f} s, git {t2 - t1:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
