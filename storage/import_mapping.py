"""Which contact field each column of an import file fills: detected, then changed by the user.

Why it looks at values as well as headers: the tools people export from name
columns in their own way, and the name alone is sometimes not enough.
LinkedIn's Connections.csv calls the profile column just "URL"; Apollo has
"Person Linkedin Url" next to "Company Linkedin Url"; PhantomBuster's Sales
Navigator export has a Sales Navigator link ("profileUrl") and the public
profile ("linkedInProfileUrl"). So, after the header aliases
(storage.contact_fields):

- a column whose header names a company's LinkedIn page ("Company Linkedin
  Url", "LinkedIn Company Page") never fills the person's LinkedIn URL, and
  neither does a LinkedIn column whose sample values are company pages
  (linkedin.com/company/…, /school/…, /sales/company/…): it stays a custom field;
- a column of unknown name whose sample values are all profile URLs
  (linkedin.com/in/…) becomes the LinkedIn URL;
- when several columns give the LinkedIn URL, a column of public profiles
  (/in/) is preferred over Sales Navigator links (/sales/lead/…), which then
  stay a custom field (the same person exported by two tools is then one
  contact, keyed by the /in/ URL).

A mapping is one target per column: a contact field, "full_name" (split into
first and last), "custom" (kept under the column's own header) or "skip".
"""

from __future__ import annotations

import re

from storage.contact_fields import FIELDS, field_for, header_key

TARGETS: dict[str, str] = {
    "first_name": "First name", "last_name": "Last name", "full_name": "Full name (split)",
    "email": "Email", "linkedin_url": "LinkedIn URL (person)", "company": "Company", "job_title": "Job title",
    "phone": "Phone", "timezone": "Timezone", "linkedin_id": "LinkedIn id",
    "custom": "Custom field", "skip": "Ignore",
}
"""Every target a column can have, with the label the app shows."""
assert set(FIELDS) <= TARGETS.keys()

SAMPLE_ROWS = 20

_COMPANY_WORDS = ("company", "organization", "organisation", "account", "employer", "school", "business")
_PROFILE = re.compile(r"(?:https?://)?(?:[a-z]{2,3}\.|www\.)?linkedin\.com/(in|pub)/", re.IGNORECASE)
_SALES_LEAD = re.compile(r"(?:https?://)?(?:www\.)?linkedin\.com/sales/(lead|people)/", re.IGNORECASE)
_COMPANY_PAGE = re.compile(r"(?:https?://)?(?:[a-z]{2,3}\.|www\.)?linkedin\.com/(company|school|showcase|sales/company)/",
                           re.IGNORECASE)


class MappingError(ValueError):
    """A --map / mapping entry that names no column or no field; nothing is imported."""


def _kind(values: list[str]) -> str | None:
    """"profile", "sales", "company" when every non-empty sample value is that kind of LinkedIn URL."""
    filled = [v.strip() for v in values if v.strip()]
    if not filled:
        return None
    for kind, pattern in (("profile", _PROFILE), ("sales", _SALES_LEAD), ("company", _COMPANY_PAGE)):
        if all(pattern.match(v) for v in filled):
            return kind
    return None


def _names_a_company_page(header: str) -> bool:
    key = header_key(header)
    return "linkedin" in key and any(word in key for word in _COMPANY_WORDS)


def detect(header: list[str], rows: list[list[str]]) -> list[str]:
    """The detected target of each column, from its header and its first rows' values."""
    columns = [[r[i] if i < len(r) else "" for r in rows] for i in range(len(header))]
    kinds = [_kind(values) for values in columns]
    targets: list[str] = []
    for name, kind in zip(header, kinds):
        target = (field_for(name) if name else None) or ("custom" if name else "skip")
        if target == "linkedin_url" and (_names_a_company_page(name) or kind == "company"):
            target = "custom"
        elif target == "custom" and kind in ("profile", "sales") and not _names_a_company_page(name):
            target = "linkedin_url"
        targets.append(target)
    url_columns = [i for i, t in enumerate(targets) if t == "linkedin_url"]
    if any(kinds[i] == "profile" for i in url_columns):
        for i in url_columns:
            if kinds[i] == "sales":
                targets[i] = "custom"
    return targets


def check_target(column: str | int, target: str) -> str:
    """`target` in its canonical spelling ("Job title" → "job_title"); MappingError when it is none."""
    canonical = target.strip().lower().replace(" ", "_").replace("-", "_")
    if canonical not in TARGETS:
        raise MappingError(f"unknown field {target!r} for column {column!r}; fields: {', '.join(TARGETS)}")
    return canonical


def resolve(header: list[str], overrides: dict[str, str]) -> dict[int, str]:
    """Column index → target for `overrides` ({column: field}), the column by header text or 1-based number.

    Raises MappingError naming the unknown column (with the file's columns) or field (with the targets).
    """
    keys = [h.strip().lower() for h in header]
    resolved: dict[int, str] = {}
    for column, target in overrides.items():
        target = check_target(column, target)
        wanted = column.strip()
        matches = [i for i, k in enumerate(keys) if k == wanted.lower()]
        if not matches and wanted.isdigit() and 1 <= int(wanted) <= len(header):
            matches = [int(wanted) - 1]
        if not matches:
            shown = ", ".join(repr(h) for h in header[:12]) + (" …" if len(header) > 12 else "")
            raise MappingError(f"no column {column!r} in the file; its columns: {shown}")
        if len(matches) > 1:
            raise MappingError(f"{len(matches)} columns are called {column!r}; name one by its number"
                               f" ({', '.join(str(i + 1) for i in matches)})")
        resolved[matches[0]] = target
    return resolved


def parse_map_options(options: list[str]) -> dict[str, str]:
    """`--map COLUMN=FIELD` options as {column: field}; the last '=' splits (a column name may hold one)."""
    found: dict[str, str] = {}
    for option in options:
        column, sep, field = option.rpartition("=")
        if not sep or not column.strip() or not field.strip():
            raise MappingError(f"--map {option!r}: write it as COLUMN=FIELD, e.g. --map \"E-mail 2=email\"")
        found[column.strip()] = field.strip()
    return found
