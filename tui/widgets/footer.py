"""A Footer that rebuilds its keys only when the keys it shows have changed.

Why: Textual's Footer recomposes (unmounts and mounts one FooterKey per binding,
each restyled through its `compact` data binding) on *every* bindings update,
and a screen publishes one per focus change, tab activation and
`refresh_bindings()`. Opening the campaign view fired a dozen of them, and the
footer rebuilds were about a third of the open time (≈0.5 s of 1.6 s profiled on
an empty workspace) although the keys shown stayed the same. Here the updates
of one refresh are coalesced into one check, and the footer is recomposed only
when what it would draw — each shown binding's key, label, action, group,
tooltip and enabled state — differs from what it drew last.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


COMPACT_BELOW = 120  # columns


class BindingsFooter(Footer):
    """Footer with coalesced, change-only recomposes (draws exactly what Footer draws)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = False
        self._drawn: tuple | None = None

    def _signature(self) -> tuple:
        """What `Footer.compose` reads from the screen's bindings, as a comparable value."""
        shown = []
        for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items():
            if binding.show or key == self.app.COMMAND_PALETTE_BINDING:
                group = binding.group
                shown.append((key, binding.key, binding.action, binding.description, binding.tooltip,
                              binding.show, (group.description, group.compact) if group else None,
                              bool(enabled), tooltip, self.app.get_key_display(binding)))
        return tuple(shown), self.show_command_palette, self.compact

    def on_resize(self) -> None:
        """Compact (one space between keys) below 120 columns, and "? Help" first (app.tcss), so
        that at 80×24 the help is never the key cut off at the right edge (it lists them all);
        the change recomposes through the signature (it holds `compact`)."""
        self.compact = self.size.width < COMPACT_BELOW

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._pending = False
        if not self.is_attached or getattr(self.screen, "paint_held", False):
            return  # (a screen holding its paint for its rows asks again once they are drawn)
        signature = self._signature()
        if signature == self._drawn:
            return
        self._drawn = signature
        await self.recompose()
        for key in self.query(FooterKey):
            key.set_class(key.action == "help", "-help")
