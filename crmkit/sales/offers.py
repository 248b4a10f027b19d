"""Offer arithmetic: line items, discounts, VAT per rate, totals. crmkit computes, templates only show.

An offer lives on its deal:

    offer:
      number: 2026-nordvik-erp-rollout     # optional; made from the year and the deal id
      valid_until: 2026-12-31              # optional; offers.validity_days after rendering
      discount: 5%                         # or {percent: 5} or {amount: 1000}; on the whole offer
                                           # (a bare 5 is refused: percent or amount?)
      items:
        - {description: ERP licence, quantity: 25, unit: user, unit_price: 4900, vat: 25}
        - {description: Implementation, quantity: 80, unit: h, unit_price: 1250, discount: {percent: 10}, vat: 25}

Rounding is half up to the currency's minor unit, either per line (`offers.rounding:
line`, the default: every line net is rounded, as most invoices print them) or on
the totals only (`total`). Either way net + VAT = grand total, to the öre.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError
from crmkit.values import round_money, to_decimal

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

HUNDRED = Decimal(100)


@dataclass
class Line:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    gross: Decimal          # quantity x unit price
    discount: Decimal       # the line's discount as an amount
    net: Decimal            # gross - discount (rounded per line when rounding is "line")
    vat_rate: Decimal       # percent


@dataclass
class VatGroup:
    rate: Decimal
    base: Decimal           # net after the offer discount
    vat: Decimal


@dataclass
class Totals:
    currency: str
    lines: list[Line]
    subtotal: Decimal                       # sum of line nets
    discount: Decimal                       # offer-level discount as an amount
    net: Decimal                            # subtotal - discount
    vat: list[VatGroup] = field(default_factory=list)
    vat_total: Decimal = Decimal(0)
    total: Decimal = Decimal(0)             # net + VAT

    def _money(self, value: Decimal) -> str:
        """An amount as JSON shows it: rounded to the currency, as text (never 3472.171875)."""
        return str(round_money(value, self.currency))

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "lines": [{"description": ln.description, "quantity": str(ln.quantity), "unit": ln.unit,
                       "unit_price": str(ln.unit_price), "gross": self._money(ln.gross),
                       "discount": self._money(ln.discount), "net": self._money(ln.net),
                       "vat_rate": str(ln.vat_rate)} for ln in self.lines],
            "subtotal": str(self.subtotal), "discount": str(self.discount), "net": str(self.net),
            "vat": [{"rate": str(g.rate), "base": str(g.base), "vat": str(g.vat)} for g in self.vat],
            "vat_total": str(self.vat_total), "total": str(self.total),
        }


def _discount(spec: Any, base: Decimal, what: str) -> Decimal:
    """{percent: 10}, {amount: 500} or "10%", as an amount off `base`. A bare number is refused."""
    if spec in (None, "", 0):
        return Decimal(0)
    if isinstance(spec, dict):
        if "percent" in spec and "amount" in spec:
            raise CrmkitError(f"{what}: give a discount as percent or amount, not both")
        if "percent" in spec:
            pct = to_decimal(spec["percent"], f"{what} percent")
            if not Decimal(0) <= pct <= HUNDRED:
                raise CrmkitError(f"{what}: a discount of {pct} % is not between 0 and 100")
            return base * pct / HUNDRED
        if "amount" in spec:
            amount = to_decimal(spec["amount"], f"{what} amount")
            if amount < 0 or amount > base:
                raise CrmkitError(f"{what}: a discount of {amount} is more than the {base} it applies to")
            return amount
        raise CrmkitError(f"{what}: a discount is {{percent: N}} or {{amount: N}}")
    text = str(spec).strip()
    if not text.endswith("%"):
        # a bare number could be either; guessing wrong would misprice the offer silently
        raise CrmkitError(f"{what}: discount {text} is ambiguous: write {text}% for a percent "
                          f"or {{amount: {text}}} for an amount")
    pct = to_decimal(text[:-1], f"{what} percent")
    if not Decimal(0) <= pct <= HUNDRED:
        raise CrmkitError(f"{what}: a discount of {pct} % is not between 0 and 100")
    return base * pct / HUNDRED


def compute(offer: dict[str, Any], currency: str, *, rounding: str = "line",
            default_vat: Any = 25) -> Totals:
    """Every figure of an offer, exactly. Raises CrmkitError naming the bad item."""
    if rounding not in ("line", "total"):
        raise CrmkitError(f"offers.rounding must be 'line' or 'total', not {rounding!r}")
    items = offer.get("items") or []
    if not isinstance(items, list) or not items:
        raise CrmkitError("the offer has no items (offer.items is empty)")
    lines: list[Line] = []
    for n, item in enumerate(items, start=1):
        what = f"offer.items[{n}]"
        if not isinstance(item, dict):
            raise CrmkitError(f"{what}: an item is a mapping with description, quantity and unit_price")
        qty = to_decimal(item.get("quantity", 1), f"{what} quantity")
        price = to_decimal(item.get("unit_price", item.get("price")), f"{what} unit_price")
        if qty < 0:
            raise CrmkitError(f"{what}: negative quantity {qty}")
        gross = qty * price
        disc = _discount(item.get("discount"), gross, what)
        if rounding == "line":
            # each printed figure is rounded and the net is what they leave: gross - discount
            # = net holds on paper, to the öre (or fillér)
            gross = round_money(gross, currency)
            disc = round_money(disc, currency)
        net = gross - disc
        vat_rate = to_decimal(item.get("vat", default_vat), f"{what} vat")
        lines.append(Line(str(item.get("description", "")), qty, str(item.get("unit", "")), price,
                          gross, disc, net, vat_rate))
    subtotal = round_money(sum((ln.net for ln in lines), Decimal(0)), currency)
    # Round the discount first and subtract: the printed figures then add up to the öre.
    offer_discount = round_money(_discount(offer.get("discount"), subtotal, "offer.discount"), currency)
    net = subtotal - offer_discount
    net_exact = net
    # Spread the offer discount over the VAT rates in proportion, so each rate is taxed on
    # what is really charged; the rounded bases add up to the rounded net exactly.
    by_rate: dict[Decimal, Decimal] = {}
    for ln in lines:
        by_rate[ln.vat_rate] = by_rate.get(ln.vat_rate, Decimal(0)) + ln.net
    line_sum = sum(by_rate.values(), Decimal(0))
    factor = (net_exact / line_sum) if line_sum else Decimal(0)
    groups: list[VatGroup] = []
    rates = sorted(by_rate)
    remaining = net
    for i, rate in enumerate(rates):
        base = remaining if i == len(rates) - 1 else round_money(by_rate[rate] * factor, currency)
        remaining -= base
        groups.append(VatGroup(rate, base, round_money(base * rate / HUNDRED, currency)))
    vat_total = sum((g.vat for g in groups), Decimal(0))
    return Totals(currency, lines, subtotal, offer_discount, net, groups, vat_total, net + vat_total)


def fingerprint(offer: dict[str, Any]) -> str:
    """What the offer says, so rendering the same offer again is the same revision."""
    content = {k: v for k, v in offer.items() if k in ("items", "discount", "valid_until", "currency", "notes")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:12]


# -- rendering ---------------------------------------------------------------------------


@dataclass
class RenderedOffer:
    content: bytes
    number: str
    revision: int
    date: Any
    valid_until: Any
    total: Decimal
    currency: str
    new_revision: bool


def totals_of(ws: Workspace, deal: Any) -> Totals:
    """The figures of a deal's offer with the workspace's settings (no rendering, no writing)."""
    offer = deal.get("offer")
    if not isinstance(offer, dict):
        raise CrmkitError(f"{deal.ref} has no offer: add offer.items to the deal")
    settings = ws.config.get("offers") or {}
    currency = str(offer.get("currency") or deal.get("currency") or ws.config.get("currency", "SEK"))
    return compute(offer, currency, rounding=str(settings.get("rounding", "line")),
                   default_vat=settings.get("vat", 25))


def render(ws: Workspace, deal: Any, fmt: str, lang: str | None = None) -> RenderedOffer:
    """The offer of `deal` as Markdown, HTML or PDF, with its number, revision and totals."""
    import datetime as dt

    from crmkit.render.templating import LABELS, LOCALES, lang_of, locale_for, pick_template, render_file

    totals = totals_of(ws, deal)
    offer, currency = deal.get("offer"), totals.currency
    settings = ws.config.get("offers") or {}
    if lang is None:
        # the customer's language, when the deal's first contact has one crmkit speaks
        first = next((c for c in (ws.index("contact").get(cid) for cid in deal.get("contacts") or []) if c), None)
        spoken = first.get("language") if first is not None else None
        lang = spoken if isinstance(spoken, str) and spoken in LOCALES else None
    locale = locale_for(lang, ws)
    language = lang or lang_of(locale)
    today = ws.today()
    history = offer.get("history") or []
    print_ = fingerprint(offer)
    last = history[-1] if history else None
    new_revision = not last or last.get("fingerprint") != print_
    # offer.revision is written back on every new revision; raising it by hand starts a new one
    by_hand = int(to_decimal(offer.get("revision") or 0, "offer.revision"))
    if last and by_hand > int(last.get("revision", 0)):
        new_revision, revision = True, by_hand
    elif last:
        revision = int(last.get("revision", 0)) + (1 if new_revision else 0)
    else:
        revision = max(1, by_hand)
    date = today if new_revision or last is None else last.get("date", today)
    valid = offer.get("valid_until") or (date + dt.timedelta(days=int(settings.get("validity_days", 30)))
                                         if isinstance(date, dt.date) else None)
    number = str(offer.get("number") or f"{date:%Y}-{deal.id}")
    company = ws.index("company").get(deal.get("company") or "")
    contacts = [ws.index("contact").get(c) for c in deal.get("contacts") or []]
    contact = next((c for c in contacts if c is not None), None)
    owner = str(deal.get("owner") or "")
    from crmkit.marketing.mail import sender

    ctx = {
        "L": LABELS.get(language, LABELS["en"]), "lang": language, "currency": currency, "totals": totals,
        "offer": {**offer, "number": number, "revision": revision, "date": date, "valid_until": valid},
        "deal": dict(deal.data, id=deal.id),
        "company": dict(company.data, id=company.id) if company else {"name": ""},
        "contact": dict(contact.data, id=contact.id) if contact else None,
        "seller": dict(ws.users.get(owner) or {"name": owner}, id=owner), "sender": sender(ws),
    }
    # offer.sv.md.j2 (a language of its own) before offer.md.j2 (labels from L), workspace first
    kind = "md" if fmt == "md" else "html"
    name = pick_template(ws, f"offer.{language}.{kind}.j2", f"offer.{kind}.j2")
    if fmt == "md":
        content = render_file(ws, name, ctx, html=False, locale=locale).encode("utf-8")
    else:
        html = render_file(ws, name, ctx, html=True, locale=locale)
        content = html.encode("utf-8") if fmt == "html" else html_to_pdf(html, ws.root)
    return RenderedOffer(content, number, revision, date, valid, totals.total, currency, new_revision)


def html_to_pdf(html: str, base: Any) -> bytes:
    """PDF through WeasyPrint, the optional `pdf` extra."""
    try:
        from weasyprint import HTML
    except ImportError:
        raise CrmkitError("PDF output needs WeasyPrint: pip install 'crmkit[pdf]' "
                          "(or use --format html and print it)") from None
    import logging

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=html, base_url=str(base)).write_pdf()


def record_rendering(doc: Any, result: RenderedOffer, fmt: str, offer: dict[str, Any]) -> None:
    """Keep on the deal what was offered: number, revision, date, total (a new entry per revision)."""
    target = doc["offer"]
    if "number" not in target:
        target["number"] = result.number
    if not result.new_revision:
        return
    target["revision"] = result.revision
    entry = {"revision": result.revision, "date": result.date, "total": str(result.total),
             "currency": result.currency, "fingerprint": fingerprint(offer)}
    if "history" not in target:
        target["history"] = []
    target["history"].append(entry)


def check_offers(ws: Workspace) -> list[Any]:
    """`crmkit check`: every deal's offer computes (amounts, discounts, VAT), reported with file and line."""
    from crmkit.errors import Problem
    from crmkit.store import yamlio

    problems: list[Any] = []
    settings = ws.config.get("offers") or {}
    if not isinstance(settings, dict):
        return [Problem("crmkit.yaml", None, "offer", "offers: is a mapping (vat, rounding, validity_days)")]
    for deal in ws.records("deal"):
        offer = deal.get("offer")
        if offer is None:
            continue
        rel = ws.rel(deal.path)
        if not isinstance(offer, dict):
            problems.append(Problem(rel, yamlio.key_lines(deal.path).get("offer"), "offer",
                                    "offer is a mapping with items"))
            continue
        currency = str(offer.get("currency") or deal.get("currency") or ws.config.get("currency", "SEK"))
        try:
            compute(offer, currency, rounding=str(settings.get("rounding", "line")),
                    default_vat=settings.get("vat", 25))
        except CrmkitError as exc:
            lines = yamlio.key_lines(deal.path)
            problems.append(Problem(rel, lines.get("offer.items") or lines.get("offer"), "offer", exc.message))
        except Exception as exc:  # noqa: BLE001 - e.g. an unknown currency code in Babel
            problems.append(Problem(rel, yamlio.key_lines(deal.path).get("offer"), "offer",
                                    f"cannot compute the offer: {exc}"))
    return problems
