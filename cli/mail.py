"""`enginy mail …`: tools around email that need no workspace.

`enginy mail classify FILE.eml …` says what each message is (reply,
auto-reply, challenge, bounce, delay, complaint, unsubscribe, spam, other),
exactly as the IMAP watcher would judge it, and which signals decided. One line per file, in order; a file that cannot be
read gets an error line and the others still go through.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List

import typer

from cli.output import UserError, emit_line
from sequences.inert import inert

app = typer.Typer(help="Email tools: classify inbound messages.", no_args_is_help=True, rich_markup_mode=None)


def _read(path: str) -> bytes:
    from runtime.channels.email.inbound.parse import MAX_PARSE_BYTES

    if path == "-":
        return sys.stdin.buffer.read(MAX_PARSE_BYTES)
    p = Path(path)
    if not p.exists():
        raise OSError("no such file")
    if p.is_dir():
        raise OSError("is a directory, not an .eml file")
    with p.open("rb") as fh:
        return fh.read(MAX_PARSE_BYTES)  # only the start matters; never load gigabytes


def _human(name: str, report: dict) -> str:
    """Two or three lines: the class with its data, the signals that decided, a challenge's link."""
    detail = ""
    if report["kind"] in ("bounce", "delay"):
        hard = {True: "hard", False: "soft", None: "hard/soft unknown"}[report["hard"]]
        detail = f" {hard} {report['status'] or '-'}"
    elif report["kind"] == "auto_reply":
        back = f", back {report['return_date']}" if report["return_date"] else ""
        detail = f" ({(report['auto'] or 'autoresponder').replace('_', ' ')}{back})"
    rcpts = (" " + ", ".join(report["recipients"])) if report["recipients"] else ""
    lines = [f"{name}: {report['kind']}{detail}{rcpts}", f"  signals: {'; '.join(report['signals']) or '-'}"]
    if report["challenge_link"]:
        lines.append(f"  verification link (shown, never followed): {report['challenge_link']}")
    return "".join(inert(line) + "\n" for line in lines)  # addresses, headers, links: outside text


@app.command("classify")
def classify(
    files: List[str] = typer.Argument(..., help="RFC 5322 message files (.eml); '-' reads stdin."),
    json_mode: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Classify inbound emails and say why: reply, auto_reply (out of office with its
    return date, or another autoresponder), challenge (with its verification link,
    never followed), bounce (hard/soft, status, recipients), delay, complaint,
    unsubscribe, spam or other — exactly as the inbox watcher judges them."""
    from runtime.channels.email.inbound.classify import as_report, classify_message

    failed = 0
    for name in files:
        try:
            raw = _read(name)
        except OSError as exc:
            failed += 1
            reason = exc.strerror or str(exc)
            if json_mode:
                emit_line({"file": name, "error": f"cannot read: {reason}"})
            sys.stderr.write(f"enginy: {name}: cannot read: {reason}\n")
            continue
        try:
            report = as_report(name, classify_message(raw))
        except Exception as exc:  # the classifier is total; this is a last guard
            failed += 1
            if json_mode:
                emit_line({"file": name, "error": f"cannot classify: {type(exc).__name__}"})
            sys.stderr.write(f"enginy: {name}: cannot classify ({type(exc).__name__})\n")
            continue
        if json_mode:
            emit_line(report)
        else:
            sys.stdout.write(_human(name, report))
    if failed:
        raise UserError(f"{failed} of {len(files)} file(s) could not be classified (see the lines above)")
