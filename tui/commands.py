"""The command palette's provider: every action of the current screen, by name.

Screens list their actions once (`palette_commands()`: title, help, callback),
so the palette, the bindings and the help screen cannot disagree about what
exists; the palette also offers the screen's key bindings that have no
explicit entry, so nothing is reachable only by key. Titles may carry campaign names: the
palette reads its strings as markup, so they are escaped.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from tui.text import clean


class Command(NamedTuple):
    title: str
    help: str
    run: Callable[[], object]


class ScreenCommands(Provider):
    """Commands offered by the screen the palette was opened on."""

    def _commands(self) -> list[Command]:
        screen = self.screen
        listed = list(getattr(screen, "palette_commands", lambda: [])())
        titles = {c.title.casefold() for c in listed}
        for binding in getattr(screen, "BINDINGS", []):
            if not binding.description or binding.description.casefold() in titles:
                continue
            action, _, args = binding.action.partition("(")
            if screen.check_action(action, ()) is False:
                continue
            titles.add(binding.description.casefold())
            listed.append(Command(binding.description, binding.tooltip or f"key: {binding.key}",
                                  partial(screen.run_action, binding.action)))
        return listed

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(escape(clean(command.title)), command.run, help=escape(clean(command.help)))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(escape(clean(command.title))), command.run, help=escape(clean(command.help)))
