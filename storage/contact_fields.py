"""What a contact field is called in the wild, and how its value is cleaned.

Header matching is forgiving because CSVs come from many tools (CRMs, Sales
Navigator exporters, spreadsheets) in many languages: a header is
accent-folded (NFKD, combining marks dropped, so "Prénom" → "prenom" rather
than "prnom"), lower-cased and stripped of everything but letters and digits
("E-mail", "Work Email", "first_name", "Téléphone" → "email", "workemail",
"firstname", "telephone") and looked up in ALIASES, which include the usual
French, Spanish, German and Portuguese CRM headers. Anything unknown
becomes a custom field under its own header text, so no column is lost.

Text cleaning policy (reliability note 7): names and other one-line fields
keep everything the user typed — Rich/Textual markup such as "[bold]" is
stored verbatim, the screens escape it when drawing — except control
characters, which are removed (tabs and newlines become a space). That makes a
terminal escape sequence inert ("\\x1b[31m" is stored as "[31m") without
rejecting a lead over it. Bidirectional-override characters, which can make a
name display as something else, are removed too. Multi-line custom fields keep
tabs and newlines.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote, urlsplit

from sequences.inert import inert

MAX_FIELD = 10_000

FIELDS = (
    "first_name", "last_name", "company", "job_title", "email",
    "linkedin_url", "phone", "timezone", "linkedin_id",
)
"""The contact columns an import can fill, in the order the importer keeps them."""

_ALIASES = {
    "first_name": "firstname first givenname forename prenom vorname nombre nome",
    "last_name": "lastname last surname familyname nom nachname apellido apellidos sobrenome nomdefamille",
    "full_name": "fullname name contactname contact personname leadname nomcomplet nombrecompleto "
                 "nomecompleto",
    "company": "company companyname organization organisation org employer account accountname business currentcompany "
               "companyaccount associatedcompany "
               "societe entreprise empresa firma unternehmen",
    "job_title": "title jobtitle position role currenttitle currentposition poste fonction cargo titre",
    "email": "email emailaddress mail workemail professionalemail businessemail companyemail emailwork "
             "workemailaddress primaryemail adresseemail adressemail courriel correo correoelectronico "
             "emailadresse",
    "linkedin_url": "linkedin linkedinurl linkedinprofile linkedinprofileurl profileurl profile linkedinlink "
                    "publicprofileurl linkedinprofilelink personlinkedinurl",
    "phone": "phone phonenumber mobile mobilephone mobilenumber cell cellphone telephone tel workphone firstphone "
             "workdirectphone "
             "directphone telefono telefon telefone telefonnummer portable",
    "timezone": "timezone tz",
    "linkedin_id": "linkedinid memberid",
}
ALIASES: dict[str, str] = {alias: field for field, names in _ALIASES.items() for alias in names.split()}

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def header_key(header: str) -> str:
    """The comparison form of a header: accents folded, lower case, ASCII letters and digits only."""
    if not header.isascii():
        header = "".join(c for c in unicodedata.normalize("NFKD", header) if not unicodedata.combining(c))
    return _NON_ALNUM.sub("", header.lower())


def field_for(header: str) -> str | None:
    """The contact field a header names (or "full_name"), None for a custom column."""
    return ALIASES.get(header_key(header))


# -- spreadsheet formulas ---------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is run as a formula by Excel / LibreOffice / Sheets."""


def defuse_formula(cell: str) -> str:
    """The cell with a leading single quote when a spreadsheet would evaluate it.

    Exported contact data is attacker-controlled (a lead's name can be
    "=HYPERLINK(...)"); the quote makes spreadsheets show it as text.
    """
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def spreadsheet_cell(value: object) -> str:
    """A CSV export's cell: control characters made inert (line breaks kept: CSV quotes them)
    and a would-be formula defused. Every export writes its cells through this."""
    return defuse_formula(inert(value, lines=True))


def undefuse_formula(cell: str) -> str:
    """defuse_formula undone: one leading quote is dropped when a formula start follows it.

    So an `enginy contacts export` re-imports to the same values; a quote before
    anything else ("'90s Corp") is the user's text and stays.
    """
    return cell[1:] if cell.startswith("'") and cell[1:2] in FORMULA_STARTS and len(cell) > 1 else cell


# -- text -------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x85\u2028\u2029]+")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s{2,}")


def clean_line(value: str) -> str:
    """A one-line field without control characters and outer whitespace."""
    if value.isprintable():
        return value.strip()
    value = _CONTROLS.sub("", _LINE_BREAKS.sub(" ", value))
    return _SPACES.sub(" ", value).strip()


def clean_text(value: str) -> str:
    """A multi-line field: control characters removed, tabs and newlines kept."""
    if value.isprintable():
        return value.strip()
    return _CONTROLS.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def split_full_name(full: str) -> tuple[str, str]:
    """"Ada Lovelace" → ("Ada", "Lovelace"); "Lovelace, Ada" → ("Ada", "Lovelace")."""
    if "," in full:
        last, _, first = full.partition(",")
        return first.strip(), last.strip()
    first, _, last = full.partition(" ")
    return first, last.strip()


# -- email ------------------------------------------------------------------------

_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}"
)


def normalise_email(value: str) -> str | None:
    """Lower-cased address, or None when it is not a plausible address.

    Lower case everywhere (not only the domain) because the address is the
    duplicate key and no real mailbox provider treats case as significant.
    "mailto:" and angle brackets from copy-pasted addresses are dropped.
    """
    value = value.strip().strip("<>").strip().lower()
    if value.startswith("mailto:"):
        value = value[7:]
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        return None
    return value


# -- LinkedIn ---------------------------------------------------------------------

_PROFILE_PATHS = ("in", "pub", "sales")
_PLAIN_PROFILE = re.compile(
    r"(?:https?://)?(?:[a-z]{2,3}\.|www\.)?linkedin\.com/in/([A-Za-z0-9_-]+)/?(?:[?#].*)?", re.IGNORECASE
)


def normalise_linkedin(value: str) -> str | None:
    """The canonical profile URL, or None when it is not a LinkedIn profile URL.

    https://www.linkedin.com/in/<slug>/ with the slug lower-cased (LinkedIn
    ignores its case), country or mobile subdomains (uk., de., m.) folded into
    www., query and fragment dropped — so the same person exported by two tools
    is one contact. Old /pub/ and Sales Navigator /sales/ URLs keep their path.
    """
    value = value.strip()
    fast = _PLAIN_PROFILE.fullmatch(value)
    if fast:  # the common shape, without urlsplit's cost (an import calls this per row)
        return f"https://www.linkedin.com/in/{fast.group(1).lower()}/"
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host != "linkedin.com" and not host.endswith(".linkedin.com"):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[0].lower() not in _PROFILE_PATHS:
        return None
    kind = segments[0].lower()
    decoded = [kind, unquote(segments[1]).lower()] if kind == "in" else [unquote(s) for s in segments]
    path = "/".join(quote(s, safe="-_.~,=") for s in decoded)
    return f"https://www.linkedin.com/{path}/"
