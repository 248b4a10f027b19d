"""Country names as address books write them -> ISO 3166 alpha-2 codes.

pycountry (the ISO 3166 tables and their translations, kept up to date by the
Debian iso-codes project) gives the names, official names and common names, and
translations into the languages a Nordic/Central European customer base writes
in; Babel's CLDR territory names add the everyday short forms ("Deutschland",
"Sverige", "Magyarország", "Norvégia"). A few abbreviations people type ("USA",
"UK") are listed here. A name no table knows is kept as written.
"""

from __future__ import annotations

import re
from functools import lru_cache

from crmkit.store.records import fold

#: Languages whose country names are known.
LANGUAGES = ("en", "sv", "nb", "nn", "da", "fi", "is", "de", "fr", "es", "it", "nl", "pl", "hu", "pt",
             "cs", "sk", "et", "lv", "lt", "ru", "uk", "el", "tr", "ja", "zh", "ko", "ar")
_ABBREVIATIONS = {"usa": "US", "u s a": "US", "u s": "US", "us of a": "US", "america": "US",
                  "uk": "GB", "u k": "GB", "great britain": "GB", "england": "GB", "scotland": "GB",
                  "wales": "GB", "holland": "NL", "brd": "DE", "rsa": "ZA", "uae": "AE"}


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", fold(text)).split())


#: Babel's everyday names are read for these first; the other languages only when a name is not found.
_FIRST = ("en", "sv", "nb", "hu", "de")


@lru_cache(maxsize=2)
def _names(full: bool = False) -> dict[str, str]:
    """Folded name -> code, in the languages of `_FIRST`, or with `full` in all of `LANGUAGES`
    (~0.8 s to build, so only when a name is not found in the first set)."""
    import gettext

    import pycountry

    names: dict[str, str] = {}
    countries = list(pycountry.countries)
    for lang in LANGUAGES if full else _FIRST:
        try:
            tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        except OSError:
            continue
        for c in countries:
            for attr in ("name", "official_name", "common_name"):
                value = getattr(c, attr, None)
                if value:
                    names.setdefault(_key(tr.gettext(value)), c.alpha_2)
    for c in countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                names[_key(value)] = c.alpha_2
        names.setdefault(_key(c.alpha_3), c.alpha_2)
    try:
        from babel import Locale

        for lang in LANGUAGES if full else _FIRST:
            try:
                territories = Locale.parse(lang).territories
            except (ValueError, LookupError):
                continue
            for code, name in territories.items():
                if len(code) == 2 and code.isalpha():
                    names.setdefault(_key(name), code)
    except ImportError:   # pragma: no cover - babel is a dependency; the ISO names still work
        pass
    names.update(_ABBREVIATIONS)
    return names


def country_code(text: str) -> str:
    """'Norway', 'Norge', 'Norvégia', 'United States of America', 'Deutschland' -> 'NO', 'NO', 'NO', 'US', 'DE'.

    A two-letter code is upper-cased; an unknown name is kept as written.
    """
    stripped = text.strip()
    if _key(stripped) in _ABBREVIATIONS:
        return _ABBREVIATIONS[_key(stripped)]
    if len(stripped) == 2 and stripped.isalpha() and stripped.isascii():
        return stripped.upper()
    k = _key(stripped)
    code = _names().get(k)
    if code is None and k:
        code = _names(True).get(k)
    return code or stripped
