"""Rendering offer and email templates safely.

Templates from a workspace are untrusted: they run in Jinja2's sandbox, a missing
variable is an error naming it (`contact.title`), never a blank, and HTML output is
escaped. Record text is passed in as data, never rendered as a template, so a
contact named `{{ 7*7 }}` prints exactly that.

Lookup: a template name is searched in the workspace's `templates/` first, then in
crmkit's defaults (`crmkit.resources.default_templates_dir()`: the top-level
`templates/` of a checkout, `crmkit/templates` in an installed wheel).

Because undefined values are strict, a template tests optional fields with
`{% if contact.title is defined %}` or `{{ contact.title | default("") }}`.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import TemplateError
from crmkit.resources import default_templates_dir

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

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


def locale_for(lang: str | None, ws: Workspace) -> str:
    """The Babel locale for a language code, or the workspace's locale."""
    if lang:
        if lang not in LOCALES:
            raise TemplateError(f"unknown language {lang!r} (known: {', '.join(LOCALES)})")
        return LOCALES[lang]
    return str(ws.config.get("locale", "sv_SE"))


def lang_of(locale: str) -> str:
    """'sv_SE' -> 'sv'; Norwegian variants -> 'nb'; anything without labels -> 'en'."""
    lang = locale.split("_")[0]
    return "nb" if lang in ("no", "nn") else lang if lang in LABELS else "en"


def search_path(ws: Workspace) -> list[Path]:
    """The workspace's templates first, then crmkit's defaults."""
    return [ws.root / "templates", default_templates_dir()]


class MissingVariable(TemplateError):
    """A template used variables the context does not have; `names` lists them all."""

    def __init__(self, template: str, names: list[str]) -> None:
        plural = "s" if len(names) != 1 else ""
        super().__init__(f"template {template}: missing variable{plural}: {', '.join(names)}")
        self.names = names


class Data(dict[str, Any]):
    """A mapping that knows its dotted name, so an error can say `contact.title`."""

    __slots__ = ("_crmkit_name",)
    _crmkit_name: str


def named(value: Any, name: str) -> Any:
    """Wrap mappings (and mappings in lists) so missing keys are reported by their path."""
    if isinstance(value, dict):
        out = Data((k, named(v, f"{name}.{k}")) for k, v in value.items())
        out._crmkit_name = name
        return out
    if isinstance(value, (list, tuple)):
        return [named(v, f"{name}[{i}]") for i, v in enumerate(value)]
    return value


def _path_of(undefined: Any) -> str:
    """The dotted path an undefined value was reached by."""
    obj, name = undefined._undefined_obj, undefined._undefined_name
    import jinja2.utils

    if obj is jinja2.utils.missing:
        return str(name)
    base = getattr(obj, "_crmkit_name", None) if isinstance(obj, Data) else type(obj).__name__
    return f"{base}.{name}" if isinstance(name, str) else f"{base}[{name!r}]"


def _undefined_classes() -> tuple[type, type]:
    """StrictUndefined naming the path; a recording ChainableUndefined to list them all."""
    import jinja2

    class Strict(jinja2.StrictUndefined):
        __slots__ = ()

        @property
        def _undefined_message(self) -> str:
            return self._undefined_hint or f"missing variable: {_path_of(self)}"

    class Recording(jinja2.ChainableUndefined):
        __slots__ = ()
        found: list[str] = []

        def _note(self) -> None:
            path = _path_of(self)
            if path not in self.found:
                self.found.append(path)

        def __str__(self) -> str:
            self._note()
            return ""

        def __iter__(self) -> Any:
            self._note()
            return iter(())

        def __bool__(self) -> bool:
            self._note()
            return False

        def __len__(self) -> int:
            self._note()
            return 0

        def __getattr__(self, name: str) -> Any:
            if name[:2] == "__":
                raise AttributeError(name)
            # follow the chain: contact.address.city reports contact.address
            return self

        __getitem__ = __getattr__  # type: ignore[assignment]

    return Strict, Recording


def environment(ws: Workspace, *, html: bool, locale: str, recording: bool = False) -> Any:
    """A sandboxed Jinja2 environment with money and date filters for `locale` (cached per workspace)."""
    cache = ws.__dict__.setdefault("_crmkit_jinja", {})
    key = (html, locale, recording)
    if key in cache:
        return cache[key]
    from crmkit.render.humane import human
    from crmkit.render.sandbox import limited_environment_class, safe_loader_class
    from crmkit.values import format_money, format_number, format_percent, round_money

    strict, record = _undefined_classes()
    tz = getattr(ws, "tz", None)
    # The sandbox with time, loop and size budgets; a loader that follows no links.
    env = limited_environment_class()(
        # every {{ value }} as a person writes it: no Python reprs of lists or timestamps
        finalize=lambda value: human(value, tz),
        loader=safe_loader_class()([str(p) for p in search_path(ws)]),
        undefined=record if recording else strict,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def money(value: Any, currency: str | None = None) -> str:
        return format_money(Decimal(str(value)), currency or str(ws.config.get("currency", "SEK")), locale)

    def price(value: Any, currency: str | None = None) -> str:
        """A unit price as the offer computed with it: at least the currency's decimals, and
        more when it has them (333 333,33 Ft), so quantity x price checks against the line."""
        from babel.numbers import format_currency

        cur = (currency or str(ws.config.get("currency", "SEK"))).upper()
        d = Decimal(str(value))
        if d == round_money(d, cur):
            return format_money(d, cur, locale)
        return format_currency(d, cur, locale=locale, decimal_quantization=False)

    def date(value: Any, fmt: str = "long") -> str:
        from babel.dates import format_date

        if isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        if isinstance(value, dt.datetime):
            value = value.date()
        return format_date(value, format=fmt, locale=locale)

    from crmkit.render.units import unit_text

    env.filters.update(unit=unit_text, money=money, price=price, date=date, number=lambda v: format_number(Decimal(str(v)), locale),
                       percent=lambda v: format_percent(Decimal(str(v)), locale))
    env.crmkit_templates = {}  # compiled template strings, by source
    cache[key] = env
    return env


def _explain(exc: Exception, name: str) -> TemplateError:
    import jinja2
    from jinja2.exceptions import SecurityError

    if isinstance(exc, SecurityError):
        return TemplateError(f"template {name} tried something unsafe and was stopped: {exc}", path=name)
    if isinstance(exc, jinja2.UndefinedError):
        message = exc.message or "missing variable"
        return TemplateError(f"template {name}: {message}")
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return TemplateError(f"template syntax error: {exc.message}", path=exc.filename or name, line=exc.lineno)
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateError(f"no template {exc.name!r} in templates/ or crmkit's defaults")
    return TemplateError(f"template {name}: {type(exc).__name__}: {exc}")


def _all_missing(template: Any, context: dict[str, Any]) -> list[str]:
    """Render once more, leniently, to list every missing variable (not just the first)."""
    recording_cls = template.environment.undefined
    from crmkit.render.sandbox import LimitExceeded, render_limited

    found: list[str] = []
    recording_cls.found = found
    try:
        render_limited(template, context)
    except (Exception, LimitExceeded):  # noqa: BLE001 - we only want the names seen before it stopped
        pass
    return list(found)


def _render(ws: Workspace, source: str | None, name: str, context: dict[str, Any], html: bool, locale: str) -> str:
    import jinja2

    from crmkit.render.sandbox import LimitExceeded, render_limited

    env = environment(ws, html=html, locale=locale)
    ctx = {key: named(value, key) for key, value in context.items()}
    try:
        template = _compile(env, source, name)
        return render_limited(template, ctx)
    except LimitExceeded as exc:
        # The template's fault, not a record's: it names the template, so a mail batch
        # stops with this one line instead of failing every recipient alike.
        raise TemplateError(f"the template was stopped: {exc}", path=name) from None
    except jinja2.UndefinedError as exc:
        lenient = environment(ws, html=html, locale=locale, recording=True)
        try:
            names = _all_missing(_compile(lenient, source, name), ctx)
        except jinja2.TemplateError:
            names = []
        if names:
            raise MissingVariable(name, names) from None
        raise _explain(exc, name) from None
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        raise _explain(exc, name) from None


def _compile(env: Any, source: str | None, name: str) -> Any:
    if source is None:
        return env.get_template(name)
    compiled = env.crmkit_templates.get(source)
    if compiled is None:
        compiled = env.crmkit_templates[source] = env.from_string(source)
        compiled.name = name
    return compiled


def render_file(ws: Workspace, name: str, context: dict[str, Any], *, html: bool, locale: str) -> str:
    """Render a template file found on the search path (workspace first)."""
    return _render(ws, None, name, context, html, locale)


def render_string(ws: Workspace, source: str, context: dict[str, Any], *, html: bool, locale: str,
                  name: str = "<template>") -> str:
    """Render template text (a part of an email template)."""
    return _render(ws, source, name, context, html, locale)


def check_name(name: str) -> str:
    """A template name stays inside the template folders."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise TemplateError(f"{name!r} is not a template name (no absolute paths, no '..')")
    return name


def find_template(ws: Workspace, *names: str) -> Path:
    """The first of `names` found, searching the workspace's templates/ before the defaults."""
    for name in names:
        check_name(name)
    from crmkit.store import paths

    for folder in search_path(ws):
        for name in names:
            path = folder / name
            if os.path.lexists(path):
                paths.guard(path)  # a linked template or folder is refused, not followed
            if path.is_file():
                return path
    raise TemplateError(f"no template {names[-1]!r} in templates/ or crmkit's defaults")


def pick_template(ws: Workspace, *names: str) -> str:
    """Like find_template, but the name relative to its template folder (for the loader)."""
    path = find_template(ws, *names)
    for name in names:
        if path.as_posix().endswith("/" + name):
            return name
    return names[-1]
