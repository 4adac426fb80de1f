"""An inbox's warm-up where the user looks: the identity screen (day N of M, today's cap against the configured
one, the spec's warning) and the queue monitor (the email bucket's cap is the warm-up's, and says so); the
connect dialog's form. On the seeded workspace with one inbox on day 3 of its 21-day ramp to 40 a day."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from rich.padding import Padding
from textual.widgets import OptionList

from runtime.queue_publish import QueuePublisher
from sequences import warmup
from storage.activity import iso
from storage.db import connect
from storage.inboxes import save_imap_inbox, set_warmup
from storage.queue_view import published
from storage.workspace import open_workspace
from tests.tui_support import NOW, make, settle, until
from tui.app import EnginyApp
from tui.screens.identity_config import IdentityConfigScreen

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
CAP = 40
TODAY_CAP = warmup.schedule(CAP, 21)[2]


@pytest.fixture(scope="module")
def warming(tmp_path_factory) -> Path:
    ws = make(tmp_path_factory.mktemp("warmup") / "ws")
    db = connect(ws / "enginy.db")
    first = db.execute("SELECT MIN(id) FROM identities").fetchone()[0]
    inbox, _ = save_imap_inbox(db, first, email="ana@acme.example", imap_host="imap.acme.example", imap_port=993,
                               smtp_host="smtp.acme.example", smtp_port=465, tls="implicit", ca_file=None,
                               per_day=CAP, per_hour=10, list_unsubscribe=True, signature=None, now=iso(NOW),
                               keep_secret=lambda inbox_id: "file", provider="microsoft")
    tz = db.execute("SELECT timezone FROM identities WHERE id = ?", [first]).fetchone()[0]
    from zoneinfo import ZoneInfo

    start = (NOW.astimezone(ZoneInfo(tz)) - timedelta(days=2)).date().isoformat()  # today is day 3
    set_warmup(db, inbox, start=start, days=21, now=iso(NOW))
    QueuePublisher(db).publish(NOW - timedelta(minutes=5))
    db.close()
    return ws


def app_of(warming: Path, tmp_path: Path) -> EnginyApp:
    shutil.copytree(warming, tmp_path / "ws")
    return EnginyApp(open_workspace(tmp_path / "ws"), wall=lambda: NOW)


def test_the_email_bucket_is_capped_by_the_warm_up(warming: Path) -> None:
    view = published(connect(warming / "enginy.db"))[0].view
    day = next(b for b in view.buckets if b.name == "ana@acme.example per day")
    assert day.limit == TODAY_CAP < CAP and day.warmup == f"day 3 of 21 · {TODAY_CAP} today (then {CAP}/day)"
    assert next(b for b in view.buckets if b.name == "ana@acme.example per hour").warmup is None


async def open_inbox_section(pilot) -> None:
    await until(pilot, lambda: pilot.app.screen.__class__.__name__ == "DashboardScreen", "dashboard")
    await pilot.press("i")
    await until(pilot, lambda: pilot.app.screen.__class__.__name__ == "IdentitiesScreen", "identities")
    await pilot.pause(0.3)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen) and pilot.app.screen.data,
                "configuration open")
    options = pilot.app.screen.query_one(OptionList)
    options.highlighted = options.option_count - 1  # "Connect an inbox…", under the inboxes and their warm-up
    options.scroll_to_highlight()


@pytest.mark.asyncio
async def test_the_identity_screen_shows_the_day_the_cap_and_the_warning(warming: Path, tmp_path: Path) -> None:
    async with app_of(warming, tmp_path).run_test(size=(80, 24)) as pilot:
        await open_inbox_section(pilot)
        options = pilot.app.screen.query_one(OptionList)
        prompts = [options.get_option_at_index(i).prompt for i in range(options.option_count)]
        text = " ".join(p.renderable.plain if isinstance(p, Padding) else str(p) for p in prompts)
        assert f"day 3 of 21 · {TODAY_CAP} today (then {CAP}/day)" in text
        assert "do not run campaigns at full volume" in text


@SIZES
def test_identity_warmup_snapshot(snap_compare, warming: Path, tmp_path: Path, size) -> None:
    async def run_before(pilot) -> None:
        await open_inbox_section(pilot)
        await settle(pilot)

    assert snap_compare(app_of(warming, tmp_path), terminal_size=size, run_before=run_before)


@SIZES
def test_queues_warmup_snapshot(snap_compare, warming: Path, tmp_path: Path, size) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("Q")
        await settle(pilot)

    assert snap_compare(app_of(warming, tmp_path), terminal_size=size, run_before=run_before)


@SIZES
def test_connect_dialog_snapshot(snap_compare, warming: Path, tmp_path: Path, size) -> None:
    async def run_before(pilot) -> None:
        await open_inbox_section(pilot)
        pilot.app.screen.connect_inbox("microsoft")
        await settle(pilot)

    assert snap_compare(app_of(warming, tmp_path), terminal_size=size, run_before=run_before)
