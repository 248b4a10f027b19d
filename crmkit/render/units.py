"""Units of offer lines in the offer's language: `12 month` is printed `12 månader`.

Offer items name their unit as people write them, often in English (`month`, `day`,
`hour`, `user`, `licence`, `piece`). Known units are translated to the offer's
language and agree with the quantity (singular for exactly 1); any other unit, such
as the Swedish `st` or `tim` already written in the customer's language, prints as
written.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

#: English unit (and its plural) -> {language: (singular, plural)}.
UNITS: dict[str, dict[str, tuple[str, str]]] = {
    "month": {"sv": ("månad", "månader"), "nb": ("måned", "måneder"), "hu": ("hónap", "hónap"),
              "en": ("month", "months")},
    "day": {"sv": ("dag", "dagar"), "nb": ("dag", "dager"), "hu": ("nap", "nap"), "en": ("day", "days")},
    "hour": {"sv": ("timme", "timmar"), "nb": ("time", "timer"), "hu": ("óra", "óra"), "en": ("hour", "hours")},
    "year": {"sv": ("år", "år"), "nb": ("år", "år"), "hu": ("év", "év"), "en": ("year", "years")},
    "week": {"sv": ("vecka", "veckor"), "nb": ("uke", "uker"), "hu": ("hét", "hét"), "en": ("week", "weeks")},
    "user": {"sv": ("användare", "användare"), "nb": ("bruker", "brukere"), "hu": ("felhasználó", "felhasználó"),
             "en": ("user", "users")},
    "licence": {"sv": ("licens", "licenser"), "nb": ("lisens", "lisenser"), "hu": ("licenc", "licenc"),
                "en": ("licence", "licences")},
    "piece": {"sv": ("st", "st"), "nb": ("stk", "stk"), "hu": ("db", "db"), "en": ("piece", "pieces")},
}
ALIASES = {"months": "month", "days": "day", "hours": "hour", "h": "hour", "years": "year", "weeks": "week",
           "users": "user", "license": "licence", "licenses": "licence", "licences": "licence",
           "pieces": "piece", "pcs": "piece", "pc": "piece"}


def unit_text(unit: Any, quantity: Any, lang: str | None) -> str:
    """The unit as the offer's language writes it for this quantity."""
    text = str(unit or "")
    key = ALIASES.get(text.lower(), text.lower())
    forms = UNITS.get(key, {}).get(lang or "en")
    if forms is None:
        return text
    try:
        one = Decimal(str(quantity)) == 1
    except (InvalidOperation, ValueError):
        one = False
    return forms[0] if one else forms[1]
