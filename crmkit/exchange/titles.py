"""Column titles people write in spreadsheets, in English, Swedish, Norwegian and Hungarian, per kind.

Titles are compared folded (lower case, no diacritics, single spaces), so
`Förväntat avslut`, `förväntat  avslut` and `FORVANTAT AVSLUT` are one title. A
kind's own table wins over the shared one (`Cím` is a deal's title but a
contact's street). The README's titles table is generated from the same words.
"""

from __future__ import annotations

from crmkit.store.records import fold


def _table(*groups: tuple[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for titles, target in groups:
        for title in titles.split("|"):
            out[key(title)] = target
    return out


def key(title: str) -> str:
    """A title as compared: folded, single spaces, no trailing colon or asterisk."""
    return " ".join(fold(title).replace("*", " ").strip().rstrip(":").split())


_NAME_PARTS = (
    ("first name|given name|förnamn|fornavn|keresztnév|utónév", "name_parts.given"),
    ("last name|family name|surname|efternamn|etternavn|vezetéknév|családnév", "name_parts.family"),
    ("middle name|mellannamn|mellomnavn|középső név", "name_parts.additional"),
)
_ADDRESS = (
    ("street|street address|address|gatuadress|adress|gateadresse|adresse|utca|cím", "address.street"),
    ("zip|zip code|postal code|postcode|postnummer|postnr|irányítószám", "address.zip"),
    ("city|town|ort|postort|stad|poststed|sted|by|város|település", "address.city"),
    ("region|state|county|län|fylke|megye", "address.region"),
    ("country|land|ország", "country"),
)
_COMMON = (
    ("owner|ägare|ansvarig|eier|ansvarlig|felelős|tulajdonos", "owner"),
    ("tags|labels|taggar|etiketter|tagger|címkék", "tags"),
    ("notes|note|comments|anteckningar|anteckning|kommentar|notater|notat|merknad|megjegyzés|megjegyzések",
     "notes"),
    ("created|created at|create date|skapad|opprettet|létrehozva", "created"),
)

TITLES: dict[str, dict[str, str]] = {
    "contact": _table(
        ("name|full name|display name|namn|fullständigt namn|navn|fullt navn|név|teljes név", "name"),
        *_NAME_PARTS,
        ("email|e-mail|email address|e-mail address|mail|e-post|epost|e-postadress|e-postadresse|"
         "e-mail cím|email cím", "email"),
        ("phone|telephone|phone number|mobile|mobile phone|cell|telefon|telefonnummer|mobil|mobilnummer|"
         "mobiltelefon|telefonszám|mobilszám", "phone"),
        ("company|organisation|organization|account|account name|företag|bolag|organisation|firma|"
         "selskap|organisasjon|cég|vállalat|szervezet", "company"),
        ("title|job title|position|role|titel|befattning|roll|tittel|stilling|beosztás|munkakör", "title"),
        ("department|avdelning|avdeling|osztály|részleg", "department"),
        ("language|språk|nyelv", "language"),
        ("birthday|date of birth|födelsedag|födelsedatum|fødselsdag|fødselsdato|születésnap|születési dátum",
         "birthday"),
        ("nickname|smeknamn|kallenavn|becenév", "nickname"),
        ("opted out|unsubscribed|avregistrerad|avmeldt|leiratkozott", "opted_out"),
        *_ADDRESS, *_COMMON,
    ),
    "company": _table(
        ("name|company|company name|organisation|organization|account name|namn|företag|företagsnamn|bolag|"
         "navn|firma|firmanavn|selskap|név|cég|cégnév", "name"),
        ("domain|website|web|web page|url|webbplats|hemsida|domän|nettside|nettsted|domene|weboldal|honlap|"
         "domain név", "domain"),
        ("industry|sector|bransch|sektor|bransje|iparág|ágazat", "industry"),
        ("employees|number of employees|headcount|antal anställda|anställda|antall ansatte|ansatte|"
         "létszám|alkalmazottak|alkalmazottak száma", "employees"),
        ("revenue|annual revenue|turnover|omsättning|årsomsättning|omsetning|årsomsetning|árbevétel|bevétel|"
         "forgalom", "revenue"),
        ("phone|telephone|telefon|telefonszám", "phone"),
        ("vat|vat no|vat number|org no|organisation number|organisationsnummer|org nr|orgnr|momsnummer|"
         "organisasjonsnummer|mva nummer|adószám|cégjegyzékszám", "vat_no"),
        ("customer|kund|kunde|ügyfél|vevő", "customer"),
        ("agreement|contract|avtal|avtale|szerződés", "agreement"),
        *_ADDRESS, *_COMMON,
    ),
    "lead": _table(
        ("name|full name|namn|navn|név", "name"),
        *_NAME_PARTS,
        ("email|e-mail|email address|e-post|epost|e-mail cím", "email"),
        ("phone|telephone|mobile|telefon|mobil|telefonszám", "phone"),
        ("company|organisation|organization|företag|firma|selskap|cég", "company_name"),
        ("status|lead status|lead-status|státusz|állapot", "status"),
        ("source|lead source|källa|kilde|forrás", "source"),
        ("users|seats|användare|antal användare|brukere|antall brukere|felhasználók|felhasználók száma", "users"),
        ("industry|bransch|bransje|iparág", "industry"),
        ("interest|intresse|interesse|érdeklődés", "interest"),
        *_ADDRESS, *_COMMON,
    ),
    "deal": _table(
        ("title|name|deal|deal name|opportunity|opportunity name|affär|affärsnamn|titel|rubrik|namn|"
         "avtale|salgsmulighet|tittel|navn|üzlet|lehetőség|megnevezés|cím|név", "title"),
        ("value|amount|deal value|deal amount|värde|belopp|affärsvärde|verdi|beløp|érték|összeg", "value"),
        ("currency|valuta|pénznem|deviza", "currency"),
        ("stage|deal stage|pipeline stage|steg|fas|fase|trinn|szakasz|fázis", "stage"),
        ("expected close|expected close date|close date|closing date|förväntat avslut|förväntat avslutsdatum|"
         "avslutsdatum|forventet avslutning|forventet lukkedato|lukkedato|várható zárás|várható lezárás|"
         "zárás dátuma", "expected_close"),
        ("probability|sannolikhet|sannsynlighet|valószínűség", "probability"),
        ("company|account|account name|organisation|organization|företag|kund|firma|selskap|kunde|"
         "cég|ügyfél", "company"),
        ("source|lead source|källa|kilde|forrás", "source"),
        ("lost reason|reason lost|förlustorsak|tapsårsak|elvesztés oka", "lost_reason"),
        ("closed|closed on|avslutad|lukket|lezárva", "closed"),
        ("products|produkter|termékek", "products"),
        *_COMMON,
    ),
}


def title_field(kind: str, title: str) -> str | None:
    """The field a column title names for this kind, or None."""
    return TITLES.get(kind, {}).get(key(title))
