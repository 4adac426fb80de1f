"""A fix for a Textual bug the app meets, until Textual has it (applied once, by tui/app.py).

Select mounting under load (textual#6581, open): Select's mount handler sets its value,
which updates its SelectCurrent, which looks up its own `#label` child — not composed
yet when the machine is busy. The app died with "No nodes match '#label' on
SelectCurrent" when the wizard opened right at start (tests/test_tui_start_keys.py).
The fix the issue proposes: an update that finds no label yet shows it once the label
exists.
"""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.widgets._select import SelectCurrent

_update = SelectCurrent.update


def _update_when_composed(self: SelectCurrent, label) -> None:
    try:
        _update(self, label)
    except NoMatches:  # label and has_value are set; draw the latest label once it is there
        self.call_after_refresh(lambda: _update_when_composed(self, self.label))


def apply() -> None:
    SelectCurrent.update = _update_when_composed
