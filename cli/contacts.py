"""`enginy contacts …`: import a lead file into a list, export, list and search contacts.

Import prints exactly {"imported", "updated", "skipped", "errors"} with
`--json`; a file that is not a usable CSV at all ends with one line on stderr
and exit code 2, with nothing written. Rows that are bad on their own are
reported by row number (and written to --rejects FILE.csv) while the good rows
are imported, all in one transaction. Blank rows (empty lines, or rows of only
delimiters such as ",,,,", which spreadsheets append) are ignored and not
counted.

Export defuses spreadsheet formulas: a cell starting with =, +, -, @, tab or
CR gets a leading single quote (a lead's name is attacker-controlled text and
"=HYPERLINK(…)" would run in Excel); import drops that one quote again, so an
export re-imports to the same values.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from sequences.limits import ID_MAX
from cli.output import UserError, contact_json, contact_line, emit
from cli.workspace import open_ws, require_list

app = typer.Typer(help="Contacts: import a CSV into a list, export, list and search.",
                  no_args_is_help=True, rich_markup_mode=None)

SHOWN_ERRORS = 20
EXPORT_COLUMNS = (
    ("first_name", "First Name"), ("last_name", "Last Name"), ("company", "Company"),
    ("job_title", "Job Title"), ("email", "Email"), ("linkedin_url", "LinkedIn URL"),
    ("phone", "Phone"), ("timezone", "Timezone"),
)
"""Export headers are the ones import recognises, so an export re-imports unchanged."""


def _progress_bar(json_out: bool):
    """A progress bar on stderr for people at a terminal; None for scripts and --json."""
    if json_out or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    bar = Progress("importing", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task("import", total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The CSV (any common encoding and delimiter)."),
    list_name: str = typer.Option(..., "--list", help="List to add the contacts to (created if missing)."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", help="Write rejected rows (row, reason, fields) here."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON (at most 10,000 errors listed)."),
    maps: Optional[List[str]] = typer.Option(
        None, "--map", metavar="COLUMN=FIELD",
        help="Map a column (header text or 1-based number) to a field: first_name, last_name, full_name, email, "
             "linkedin_url, company, job_title, phone, timezone, linkedin_id, custom (keep as a custom field) or "
             "skip. Repeatable."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check everything and report the counts, write nothing."),
    created_by: Optional[str] = typer.Option(
        None, "--created-by", help="Who a new list is recorded as created by (the Lists filter 'created by'); "
                                   "default: the workspace's user (`user` in enginy.toml)."),
) -> None:
    """Import contacts from a CSV into a list; duplicates (same email or LinkedIn URL) are merged.

    Exports from LinkedIn (Connections.csv, its "Notes:" lines skipped), Apollo, HubSpot,
    Salesforce, PhantomBuster, Evaboot, lemlist and Instantly import as they are; so do
    Excel's CSV (any locale: ';' and cp1252 too) and its "Unicode text" (UTF-16, tabs).
    Headers are matched forgivingly (First Name, E-mail, Company Name, LinkedIn URL …), a
    column of LinkedIn profile links is found by its values, a company's LinkedIn page is
    never taken for the person's; other columns become custom fields. `contacts columns FILE`
    shows the mapping; --map changes it. Row numbers in errors count the header as row 1.
    Blank rows are ignored and not counted: empty lines and rows of only delimiters (",,,,").
    A leading single quote that `contacts export` put before =, +, -, @ is removed again.
    """
    from runtime.clock import wall_now
    from storage.contact_import import import_contacts
    from storage.csv_read import CsvFileError
    from storage.import_mapping import MappingError, parse_map_options

    if not list_name.strip():
        raise UserError("--list needs a name")
    if created_by is not None and not created_by.strip():
        raise UserError("--created-by needs a name")
    try:
        mapping = parse_map_options(maps or [])
    except MappingError as exc:
        raise UserError(str(exc)) from None
    workspace = open_ws(ctx)
    db = workspace.open_db()
    bar, progress = _progress_bar(json_out)
    try:
        if bar:
            bar.start()
        result = import_contacts(db, file, list_name=list_name, now=wall_now(), created_by=(created_by or workspace.config.user).strip(),
                                 rejects_path=rejects, progress=progress, mapping=mapping, dry_run=dry_run)
    except (CsvFileError, MappingError) as exc:
        raise UserError(f"{file}: {exc}; nothing was imported") from None
    except OSError as exc:
        raise UserError(f"{exc.filename or file}: {exc.strerror}; nothing was imported") from None
    finally:
        if bar:
            bar.stop()
        db.conn.close()
    lines = [
        ("Dry run, nothing written: " if dry_run else "")
        + f"List {list_name!r}: {result.imported} new, {result.updated} updated, "
        f"{result.skipped} unchanged duplicates, {result.error_count} rejected"
    ]
    lines += [f"  row {e.row}: {e.reason}" for e in result.errors[:SHOWN_ERRORS]]
    if result.error_count > SHOWN_ERRORS:
        hint = f" (all in {rejects})" if rejects else " (--rejects FILE.csv writes them all)"
        lines.append(f"  … and {result.error_count - SHOWN_ERRORS} more{hint}")
    emit(result.report(), json_out, human="\n".join(lines))


@app.command("columns")
def columns(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The CSV to look at."),
    maps: Optional[List[str]] = typer.Option(None, "--map", metavar="COLUMN=FIELD",
                                             help="Apply a mapping as `contacts import --map` would."),
    json_out: bool = typer.Option(False, "--json", help="Print the columns as JSON."),
) -> None:
    """How `contacts import` would read FILE: each column's field and first values, and the row count."""
    from storage.contact_import import preview_file
    from storage.csv_read import CsvFileError
    from storage.import_mapping import TARGETS, MappingError, parse_map_options

    try:
        found = preview_file(file, parse_map_options(maps or []))
    except (CsvFileError, MappingError) as exc:
        raise UserError(f"{file}: {exc}") from None
    except OSError as exc:
        raise UserError(f"{exc.filename or file}: {exc.strerror}") from None
    delimiter = {"\t": "tab"}.get(found.delimiter, found.delimiter)
    lines = [f"{found.rows} rows, {found.encoding}, delimiter {delimiter!r}, header on row {found.header_row}"]
    lines += [f"  {c.name[:30]:<30} → {TARGETS[c.target]:<22} {' | '.join(v[:30] for v in c.samples)}"
              for c in found.columns]
    emit({"rows": found.rows, "encoding": found.encoding, "delimiter": found.delimiter,
          "header_row": found.header_row,
          "columns": [{"name": c.name, "field": c.target, "samples": c.samples} for c in found.columns]},
         json_out, human="\n".join(lines))


@app.command("export")
def export(
    ctx: typer.Context,
    file: str = typer.Argument("-", help="Output CSV, or - for stdout."),
    list_name: Optional[str] = typer.Option(None, "--list", help="Only this list's contacts."),
) -> None:
    """Export contacts (of a list) as a CSV that `contacts import` reads back unchanged.

    Cells starting with =, +, -, @ (or tab/CR) get a leading single quote so a
    spreadsheet shows them as text instead of running them as formulas.
    """
    from storage.contact_fields import spreadsheet_cell
    from storage.contacts import custom_keys, iter_contacts

    db = open_ws(ctx).open_db()
    list_id = require_list(db, list_name).id if list_name is not None else None
    customs = custom_keys(db, list_id=list_id)
    known = {header.lower() for _, header in EXPORT_COLUMNS}
    custom_headers = [k if k.lower() not in known else f"{k} (custom)" for k in customs]
    target = Path(file)
    tmp = target.with_name(target.name + ".part") if file != "-" else None
    try:
        out = open(tmp, "w", newline="", encoding="utf-8") if tmp else sys.stdout
    except OSError as exc:
        raise UserError(f"{file}: {exc.strerror}") from None
    count = 0
    try:
        writer = csv.writer(out)
        writer.writerow([spreadsheet_cell(h) for h in [header for _, header in EXPORT_COLUMNS] + custom_headers])
        for contact in iter_contacts(db, list_id=list_id):
            cells = [getattr(contact, f) or "" for f, _ in EXPORT_COLUMNS] + [contact.custom.get(k, "") for k in customs]
            writer.writerow([spreadsheet_cell(cell) for cell in cells])
            count += 1
    except OSError as exc:
        raise UserError(f"{file}: {exc.strerror}") from None
    finally:
        if tmp:
            out.close()
    if tmp:
        os.replace(tmp, target)
        sys.stderr.write(f"Exported {count} contacts to {target}\n")


@app.command("list")
def list_contacts(
    ctx: typer.Context,
    search: Optional[str] = typer.Option(None, "--search", help="Text to find in name, email, company, title or URL."),
    list_name: Optional[str] = typer.Option(None, "--list", help="Only this list's contacts."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="Contacts per page."),
    after: Optional[int] = typer.Option(None, "--after", min=0, max=ID_MAX, help="Continue after this contact id (from the last page)."),
    json_out: bool = typer.Option(False, "--json", help="Print the page as JSON."),
) -> None:
    """One page of contacts in id order; the next page is `--after <id printed at the end>`."""
    from storage.contacts import contacts_page

    db = open_ws(ctx).open_db()
    list_id = require_list(db, list_name).id if list_name is not None else None
    result = contacts_page(db, search=search, list_id=list_id, limit=limit,
                           after=(after, after) if after is not None else None)
    next_after = result.after[1] if result.after else None
    lines = [contact_line(c) for c in result.rows] or ["(no contacts)"]
    if next_after is not None:
        lines.append(f"more: enginy contacts list --after {next_after}"
                     + (f" --search {search!r}" if search else ""))
    emit({"contacts": [contact_json(c) for c in result.rows], "next_after": next_after}, json_out,
         human="\n".join(lines))
