"""Rendering offer and email templates safely.

Templates from a workspace are untrusted: they run in Jinja2's sandbox, a missing
variable is an error (never a blank), and HTML output is escaped. Record text is
passed in as data, never rendered as a template, so a contact named `{{ 7*7 }}`
prints exactly that.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from crmkit.core.errors import TemplateError
from crmkit.resources import default_templates_dir

#: Words of the default offer templates, per language; a workspace template may use its own.
LABELS: dict[str, dict[str, str]] = {
    "sv": {"offer": "Offert", "number": "Offertnummer", "date": "Datum", "valid_until": "Giltig till",
           "customer": "Kund", "contact": "Kontaktperson", "seller": "Vår referens", "description": "Beskrivning",
           "quantity": "Antal", "unit_price": "À-pris", "discount": "Rabatt", "amount": "Belopp",
           "subtotal": "Summa", "offer_discount": "Rabatt på offerten", "net": "Netto", "vat": "Moms",
           "total": "Att betala", "revision": "Version", "greeting": "Tack för förfrågan. Här är vårt erbjudande."},
    "en": {"offer": "Offer", "number": "Offer number", "date": "Date", "valid_until": "Valid until",
           "customer": "Customer", "contact": "Contact", "seller": "Our reference", "description": "Description",
           "quantity": "Qty", "unit_price": "Unit price", "discount": "Discount", "amount": "Amount",
           "subtotal": "Subtotal", "offer_discount": "Offer discount", "net": "Net", "vat": "VAT",
           "total": "Total", "revision": "Revision", "greeting": "Thank you for your enquiry. Here is our offer."},
    "nb": {"offer": "Tilbud", "number": "Tilbudsnummer", "date": "Dato", "valid_until": "Gyldig til",
           "customer": "Kunde", "contact": "Kontaktperson", "seller": "Vår referanse", "description": "Beskrivelse",
           "quantity": "Antall", "unit_price": "Enhetspris", "discount": "Rabatt", "amount": "Beløp",
           "subtotal": "Sum", "offer_discount": "Rabatt på tilbudet", "net": "Netto", "vat": "MVA",
           "total": "Å betale", "revision": "Versjon", "greeting": "Takk for forespørselen. Her er vårt tilbud."},
    "hu": {"offer": "Árajánlat", "number": "Ajánlatszám", "date": "Dátum", "valid_until": "Érvényes",
           "customer": "Ügyfél", "contact": "Kapcsolattartó", "seller": "Ügyintéző", "description": "Megnevezés",
           "quantity": "Mennyiség", "unit_price": "Egységár", "discount": "Kedvezmény", "amount": "Összeg",
           "subtotal": "Részösszeg", "offer_discount": "Ajánlati kedvezmény", "net": "Nettó", "vat": "ÁFA",
           "total": "Fizetendő", "revision": "Változat", "greeting": "Köszönjük megkeresését. Ajánlatunk:"},
}
LOCALES = {"sv": "sv_SE", "en": "en_GB", "nb": "nb_NO", "hu": "hu_HU"}


def locale_for(lang: str | None, ws: Any) -> str:
    if lang:
        if lang not in LOCALES:
            raise TemplateError(f"unknown language {lang!r} (known: {', '.join(LOCALES)})")
        return LOCALES[lang]
    return str(ws.config.get("locale", "sv_SE"))


def lang_of(locale: str) -> str:
    lang = locale.split("_")[0]
    return "nb" if lang in ("no", "nn") else lang if lang in LABELS else "en"


def search_path(ws: Any) -> list[Path]:
    """The workspace's templates first, then crmkit's defaults."""
    return [ws.root / "templates", default_templates_dir()]


def environment(ws: Any, *, html: bool, locale: str) -> Any:
    """A sandboxed Jinja2 environment with money and date filters for `locale`."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    from crmkit.core.money import format_money, format_number, format_percent

    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path(ws)]),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def money(value: Any, currency: str | None = None) -> str:
        return format_money(Decimal(str(value)), currency or str(ws.config.get("currency", "SEK")), locale)

    def date(value: Any, fmt: str = "long") -> str:
        from babel.dates import format_date

        if isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        if isinstance(value, dt.datetime):
            value = value.date()
        return format_date(value, format=fmt, locale=locale)

    env.filters.update(money=money, date=date, number=lambda v: format_number(Decimal(str(v)), locale),
                       percent=lambda v: format_percent(Decimal(str(v)), locale))
    return env


def _explain(exc: Exception, name: str) -> TemplateError:
    import jinja2
    from jinja2.exceptions import SecurityError

    if isinstance(exc, SecurityError):
        return TemplateError(f"template {name} tried something unsafe and was stopped: {exc}")
    if isinstance(exc, jinja2.UndefinedError):
        return TemplateError(f"template {name}: missing variable: {exc.message}")
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return TemplateError(f"template syntax error: {exc.message}", path=exc.filename or name, line=exc.lineno)
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateError(f"no template {exc.name!r} in templates/ or crmkit's defaults")
    return TemplateError(f"template {name}: {type(exc).__name__}: {exc}")


def render_file(ws: Any, name: str, context: dict[str, Any], *, html: bool, locale: str) -> str:
    """Render a template file found on the search path."""
    import jinja2

    env = environment(ws, html=html, locale=locale)
    try:
        return env.get_template(name).render(**context)
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        raise _explain(exc, name) from None


def render_string(ws: Any, source: str, context: dict[str, Any], *, html: bool, locale: str,
                  name: str = "<template>") -> str:
    """Render template text (a part of an email template)."""
    import jinja2

    env = environment(ws, html=html, locale=locale)
    try:
        return env.from_string(source).render(**context)
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        raise _explain(exc, name) from None


def find_template(ws: Any, name: str) -> Path:
    for folder in search_path(ws):
        path = folder / name
        if path.is_file():
            return path
    raise TemplateError(f"no template {name!r} in templates/ or crmkit's defaults")
