"""The Inbox and thread screens (issue 15), in Pilot and as snapshots at 80×24 and 160×48.

The seeded workspace gets three conversations in campaign 1: an email answer with a quoted original
and a signature, from the hostile contact (markup and an escape sequence in its text: drawn
literally), a LinkedIn reply, and an out-of-office notice; the first one's classifier record carries
a challenge link. The keys: M from the dashboard, j/k, enter, t, u/N, r (writes an outbox row)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from storage.conversations import add_received, add_sent, conversation_id, set_tags
from storage.db import connect, transaction
from storage.workspace import open_workspace
from tests.tui_support import NOW, make, q, settle, until
from tui.app import EnginyApp
from tui.screens.conversations import ConversationsScreen, ReplyScreen, ThreadScreen
from tui.screens.modals import ChoiceScreen

ANSWER = ("Sounds good [bold]really[/] \x1b[31m— tell me more about pricing.\n\n-- \nBob\nCTO, Evil Corp\n\n"
          "On Mon, 23 Nov 2026, Ana <ana@sandbox.invalid> wrote:\n> Hi there\n> are you free?\n")


def seed_conversations(folder: Path) -> None:
    db = connect(folder / "enginy.db")
    leads = db.execute("SELECT id, contact_id FROM enrollments WHERE campaign_id = 1 ORDER BY id LIMIT 3").fetchall()
    with transaction(db):
        for n, ((enrollment, contact), channel) in enumerate(zip(leads, ("email", "linkedin", "email"))):
            at = NOW - timedelta(hours=5 - n)
            conv = conversation_id(db, identity_id=1, contact_id=contact, channel=channel, campaign_id=1,
                                   inbox_id=1 if channel == "email" else None,
                                   now=at)
            add_sent(db, conv, kind="email" if channel == "email" else "linkedin_message", at=at - timedelta(days=1),
                     subject="Quick question" if channel == "email" else None, body="Hi, are you free next week?",
                     message_id=f"<ours.{n}@sandbox.invalid>", enrollment_id=enrollment)
            body = ANSWER if n == 0 else "Not now, maybe next quarter." if n == 1 else "I am out of the office until Monday."
            add_received(db, conv, kind="reply" if n < 2 else "out_of_office", at=at, body=body, enrollment_id=enrollment,
                         subject="Re: Quick question" if channel == "email" else None, message_id=f"<theirs.{n}@x.test>")
            set_tags(db, conv, add=[["Interested", "English"], ["Bad timing"], ["Out of office"]][n], now=at)
        db.execute("INSERT INTO mail_inbound (inbox_id, folder, uidvalidity, uid, fingerprint, received_at, kind, subject,"
                   " contact_id, details) VALUES (1, 'INBOX', 1, 9, 'f9', ?, 'challenge', 'Please verify', ?, ?)",
                   [NOW.isoformat(), leads[0][1], '{"challenge_link": "https://verify.test/c?x=1"}'])
    db.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    folder = make(tmp_path_factory.mktemp("snap-inbox") / "ws")
    seed_conversations(folder)
    return folder


def _app(seeded: Path, tmp_path: Path) -> tuple[EnginyApp, Path]:
    shutil.copytree(seeded, tmp_path / "ws")
    return EnginyApp(open_workspace(tmp_path / "ws"), wall=lambda: NOW), tmp_path / "ws"


@pytest.mark.asyncio
async def test_the_inbox_lists_opens_tags_marks_and_replies(seeded: Path, tmp_path: Path) -> None:
    app, ws = _app(seeded, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, ConversationsScreen) and len(app.screen.rows) == 3, "inbox")
        inbox = app.screen
        assert [r.tags[0] for r in inbox.rows] == ["Out of office", "Bad timing", "Interested"]  # newest first
        await pilot.press("U")
        await until(pilot, lambda: len(inbox.rows) == 3 and inbox.flt.unread, "unread only: all three are")
        await pilot.press("j", "j", "enter")
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and app.screen.data, "the thread")
        thread = app.screen
        assert thread.data.notices[0].challenge_link == "https://verify.test/c?x=1"
        assert q(ws, "SELECT unread FROM conversations WHERE id = ?", thread.conversation_id) == [(0,)]  # read on open
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the tag choice")
        await pilot.press("enter")  # the first choice: Interested, on → off
        await until(pilot, lambda: thread.data.conversation.tags == ["English"] or
                    q(ws, "SELECT tags FROM conversations WHERE id = ?", thread.conversation_id) == [('["English"]',)],
                    "Interested taken off")
        assert q(ws, "SELECT milestones & 2048 FROM enrollments e JOIN conversations c ON c.contact_id = e.contact_id"
                     " AND c.campaign_id = e.campaign_id WHERE c.id = ?", thread.conversation_id) == [(0,)]
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ReplyScreen), "the reply editor")
        await pilot.press(*"Tuesday?")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: q(ws, "SELECT count(*) FROM outbox WHERE key LIKE 'reply:%'") == [(1,)], "queued")
        assert "Reply queued" in str(thread.query_one("#thread-report").render())
        await pilot.press("N", "escape")
        await until(pilot, lambda: isinstance(app.screen, ConversationsScreen), "back to the list")


async def _inbox(pilot) -> None:
    await settle(pilot, rounds=1)
    await pilot.press("M")
    await settle(pilot)


async def _thread(pilot) -> None:
    await _inbox(pilot)
    await pilot.press("j", "j", "enter")
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_inbox_screen(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    app, _ = _app(seeded, tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=_inbox)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_thread_screen(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    app, _ = _app(seeded, tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=_thread)


@pytest.mark.asyncio
async def test_the_thread_names_the_leads_status_in_the_specs_words(seeded: Path, tmp_path: Path) -> None:
    app, ws = _app(seeded, tmp_path)
    db = connect(ws / "enginy.db")
    with transaction(db):  # the Interested answer's lead, in Error for want of an address
        db.execute("UPDATE enrollments SET status = 'error', substatus = 'missing_contact_email' WHERE id ="
                   " (SELECT id FROM enrollments WHERE campaign_id = 1 ORDER BY id LIMIT 1)")
    db.close()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, ConversationsScreen) and len(app.screen.rows) == 3, "inbox")
        await pilot.press("j", "j", "enter")
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and app.screen.data, "the thread")
        side = str(app.screen.query_one("#thread-lead-text").render())
        assert "Error · Missing contact email" in side and "missing_contact_email" not in side


@pytest.mark.asyncio
async def test_the_inbox_pages_older_conversations_in_as_the_cursor_nears_the_end(tmp_path: Path, monkeypatch) -> None:
    import tui.screens.conversations as screen_module

    monkeypatch.setattr(screen_module, "PAGE", 50)
    folder = make(tmp_path / "ws")
    db = connect(folder / "enginy.db")
    contacts = [r[0] for r in db.execute("SELECT id FROM contacts ORDER BY id LIMIT 120").fetchall()]
    with transaction(db):
        for n, contact in enumerate(contacts):
            at = NOW - timedelta(minutes=n // 2)  # two at each minute: the keyset's tie-break on id is needed
            conv = conversation_id(db, identity_id=1, contact_id=contact, channel="linkedin", campaign_id=None,
                                   inbox_id=None, now=at)
            add_received(db, conv, kind="reply", at=at, body=f"answer {n}", enrollment_id=None)
    db.close()
    app = EnginyApp(open_workspace(folder), wall=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, ConversationsScreen) and len(app.screen.rows) == 50, "a page")
        inbox = app.screen
        assert "50+ conversations" in str(inbox.query_one("#inbox-filters").render())
        for shown in (100, 120):
            await pilot.press("G")
            await until(pilot, lambda: len(inbox.rows) == shown, f"{shown} conversations")
        assert not inbox.more and "120 conversations" in str(inbox.query_one("#inbox-filters").render())
        ids = [r.id for r in inbox.rows]
        assert len(set(ids)) == 120 and inbox.table.row_count == 120  # none twice, none skipped
        assert [(r.updated_at, r.id) for r in inbox.rows] == sorted(((r.updated_at, r.id) for r in inbox.rows), reverse=True)
        await inbox.refresh_data()  # a refresh (the runtime wrote) keeps every row shown
        assert len(inbox.rows) == 120
