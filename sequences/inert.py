"""Text from the outside world made inert for every output: terminals, logs, JSON, CSV files.

Names, companies, subjects and bodies come from CSV files, mail servers and the
LinkedIn gateway; any of them may carry ESC or C1 sequences (a CSI that clears
the screen, an OSC 52 that writes the clipboard, an OSC 8 link), bidirectional
overrides that make a name read as something else. Every writer (the app
through `tui.text`, the command line's `cli.output`, the runtime log, CSV
exports through `storage.contact_fields.spreadsheet_cell`, which also defuses
formulas) calls `inert`, so the rule lives here once. Pure: it is in `sequences/` so that every layer may use it.
"""

from __future__ import annotations

import re

# C0 controls (ESC, BEL, CR, LF, TAB, …), DEL, C1 controls (CSI 0x9b, OSC 0x9d, …),
# and the bidirectional embeddings, overrides and isolates (U+202A-E, U+2066-9).
_BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_KEEP_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")  # keeps TAB and LF
_BREAKS = re.compile(r"\r\n?")
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def inert(value: object, *, lines: bool = False) -> str:
    """`value` as text that cannot act on a terminal: every control character (and bidi
    override) becomes a visible '�'. With `lines`, line breaks and tabs are kept (a body,
    an error with several lines); without, the text stays on one line."""
    if value is None:
        return ""
    text = str(value)
    if lines:
        return _CONTROL_KEEP_LINES.sub(REPLACEMENT, _BREAKS.sub("\n", text))
    return _CONTROL.sub(REPLACEMENT, text)

