"""Keys are handled one at a time, in the order they were typed, each by what the one before left.

Textual hands every key to the focused widget the moment it is read, and runs
the bindings of a key (a screen's, the app's, and a widget's own: an Input's
backspace) only when that key comes back up to the app unhandled. Keys read
together — typed fast, or arriving in one packet over SSH — were therefore all
handed to the same widget before the first had done anything:
- "d" then "2d 5h" in the sequence editor sent the delay's keys to the tree, not
  to the prompt "d" opens: the prompt kept "0", or lost letters;
- in a text field, backspaces ran after the letters read with them: in the
  prompt holding "0", backspace, "ab", backspace, "c" gave "a", not "ac".
So a key read while another is still on its way waits. It is handed over when
that one is done (stopped by the widget that took it, or back at the app with
its binding run) and what it set off is on screen: the prompt it opened up and
focused, or the prompt its enter closed gone. A key that stopped somewhere else
on the way is taken as done after `STRAY_S`: a key can delay the next one, never
hold it back for good. Keys typed one by one are handed over at once, as before.
"""

from __future__ import annotations

from collections import deque

from textual import events
from textual.app import App

#: seconds after which a key not seen back is taken as handled (stopped by a container on the way)
STRAY_S = 0.3


class KeysInOrder(App):
    """The app's half of the above: put before `App` among an app's bases."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._key_on_its_way: events.Key | None = None
        self._keys_waiting: deque[events.Key] = deque()
        self._next_planned = False  # a hand-over of the first waiting key is scheduled

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key):
            await super().on_event(event)
        elif not event.is_forwarded:  # read from the terminal
            if self._key_on_its_way is None and not self._keys_waiting:
                await self._hand_over(event)
            else:
                self._keys_waiting.append(event)
                if self._key_on_its_way is None and not self._next_planned:  # never left waiting for good
                    self._plan_next(self.call_later)
        else:  # back from the focused widget, unhandled: its bindings run now
            await super().on_event(event)
            self._done(event)

    async def _hand_over(self, key: events.Key) -> None:
        self._key_on_its_way = key
        target = self.focused or self.screen  # where Textual's App.on_event hands it
        await super().on_event(key)
        if not key.is_forwarded:  # a priority binding took it at once
            self._done(key)
        elif not target.call_later(self._taken_by_target, key):
            self._done(key)
        else:
            self.set_timer(STRAY_S, lambda: self._done(key))

    def _taken_by_target(self, key: events.Key) -> None:
        """Runs right after the widget handled `key`: done if it stopped it, else it is coming back."""
        if key._stop_propagation:
            self._done(key)

    def _done(self, key: events.Key) -> None:
        if key is not self._key_on_its_way:
            return  # already done (a late timer, or a key from before this one)
        self._key_on_its_way = None
        if self._keys_waiting:
            self._plan_next(self.call_after_refresh, self._after_effects)

    def _plan_next(self, later, step=None) -> None:
        self._next_planned = later(step or self._next)

    def _after_effects(self) -> None:
        """The messages the key set off are handled and the screen is drawn (a prompt its enter
        closed is gone, a screen it opened is up). The focused widget may still have its Focus
        event to handle (an Input then selects its text, and would select what was typed ahead):
        the next key goes after that."""
        focused = self.focused
        if focused is None or not focused.call_later(self.call_later, self._next):
            self.call_later(self._next)

    async def _next(self) -> None:
        self._next_planned = False
        if self._key_on_its_way is None and self._keys_waiting:
            await self._hand_over(self._keys_waiting.popleft())
