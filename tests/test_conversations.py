"""Conversations (issue 15): replies tagged by rules when recorded, tags changed by hand, Positive read
from the tags everywhere (Overview figures, Tagged conversations, the audience's tag filter), quoted
text and signatures folded, the inbox filters, and `enginy conversations` for scripts."""

from __future__ import annotations

import msgspec
import pytest

from runtime import inbound
from sequences.mail_text import fold
from storage.activity_kinds import Kind, Milestone
from storage.audience_view import AudienceFilter, AudienceSource
from storage.conversation_view import InboxFilter, conversations, thread
from storage.conversations import set_tags, set_unread
from storage.db import transaction
from storage.metrics import campaign_metrics, conversation_tags
from storage.reader import Reader
from storage.replies import ReplyError, queue_reply
from storage.workspace import init_workspace
from sequences.model import Email, Sequence
from datetime import datetime, timedelta

from textual.app import App

from storage.campaign_view import lead_detail
from tests.support.campaign_workspace import enginy, fails, ok_json
from tui.text import clean, snippet
from tui.widgets.lead_panel import REPLY_CHARS
from tui.widgets.overview import TaggedConversations, tag_periods_since
from tests.support.seed import contacts, running_campaign, sandbox_identity
from tests.test_mail_storage import db, inbound_mail, sent  # noqa: F401 (the workspace fixture)
from tests.test_runtime_actors import MON
from storage import mail as mail_db


def _answer(db, lead: int, body: str, *, kind: str = "reply", message_id: str | None = None) -> None:  # noqa: F811
    """Lead `lead` answers our email `k<lead>` with `body` (recorded as the watcher does, then applied)."""
    outbox_id = sent(db, f"k{lead}", lead, message_id=f"<ours.{lead}@sender.test>")
    mail = msgspec.structs.replace(inbound_mail(f"mid:{lead}", kind=kind, outbox_id=outbox_id, contact_id=lead,
                                                from_addr=f"l{lead}@example.com", body=body),
                                   message_id=message_id or f"answer.{lead}@example.com")
    with transaction(db):
        mail_db.add_inbound(db, mail)
    inbound.apply_mail(db, MON)


def _positive(db, lead: int) -> bool:
    return bool(db.execute("SELECT milestones FROM enrollments WHERE id = ?", [lead]).fetchone()[0] & Milestone.EM_POSITIVE)


def test_a_reply_is_tagged_by_rules_and_positive_follows_its_tags(db, tmp_path):  # noqa: F811
    _answer(db, 1, "Sounds interesting, let's talk next week. Thanks for the note, it is a good time for us.")
    _answer(db, 2, "Not interested, thanks. We already have a vendor for this and it is fine.")
    rows = {r.contact_id: r for r in conversations(db, InboxFilter())}
    assert rows[1].tags == ["Interested", "English"] and rows[1].unread
    assert rows[2].tags == ["Not interested", "English"]
    assert _positive(db, 1) and not _positive(db, 2)
    figures = campaign_metrics(db, 1).metrics
    assert figures["email"]["positive"] == 1 and figures["all"]["positive"] == 1
    assert ("Interested", "email", 1) in conversation_tags(db, 1)
    # by hand: Interested off, Meeting booked on (still positive), then no positive tag at all
    set_tags(db, rows[1].id, add=["meeting booked"], remove=["Interested"], now=MON, actor="you", by="hand")
    assert _positive(db, 1)
    assert set_tags(db, rows[1].id, remove=["Meeting booked"], now=MON, actor="you") == ["English"]
    assert not _positive(db, 1) and campaign_metrics(db, 1).metrics["email"]["positive"] == 0
    set_tags(db, rows[2].id, add=["Pricing question"], now=MON)  # a custom tag
    audience = AudienceSource(Reader(tmp_path / "ws.db"), AudienceFilter(1, identity_id=1, tag="Pricing question"))
    assert [r.contact_id for r in audience.after(None, 10)] == [2]  # the audience's tag filter reads the same tags
    kinds = [k for (k,) in db.execute("SELECT kind FROM activity WHERE kind LIKE 'reply_%' ORDER BY id")]
    assert kinds == ["reply_tagged_positive", "reply_untagged_positive"]  # the bit moved twice, not four times


def test_an_out_of_office_is_in_the_tag_breakdown_but_not_a_reply(db):  # noqa: F811
    _answer(db, 3, "I am out of the office until Monday with limited email access.", kind="auto_reply")
    row = conversations(db, InboxFilter(tag="out of office"))[0]
    assert row.contact_id == 3 and row.tags == ["Out of office"]
    assert campaign_metrics(db, 1).metrics["email"]["replied"] == 0  # FAQ Q3


def test_the_inbox_filters_and_marks(db):  # noqa: F811
    _answer(db, 1, "Sounds good, tell me more about the pricing please.")
    _answer(db, 2, "Wrong person — I no longer work at this company.")
    assert [r.contact_id for r in conversations(db, InboxFilter(search="pricing"))] == [1]
    assert [r.contact_id for r in conversations(db, InboxFilter(tag="Wrong person"))] == [2]
    assert conversations(db, InboxFilter(channel="linkedin")) == []
    set_unread(db, [conversations(db, InboxFilter(contact_id=1))[0].id], False)
    assert [r.contact_id for r in conversations(db, InboxFilter(unread=True))] == [2]
    first = conversations(db, InboxFilter(), limit=1)
    assert [r.contact_id for r in conversations(db, InboxFilter(), after=(first[0].updated_at, first[0].id))] != \
        [first[0].contact_id]


@pytest.mark.parametrize("body, text, signature, quoted", [
    ("Yes please.\n\nOn Mon, 1 Dec 2026, Ana <ana@x.test> wrote:\n> Hi Bob\n", "Yes please.", "", "On Mon"),
    ("Sure.\n-- \nBob Smith\nCTO\n", "Sure.", "-- \nBob Smith\nCTO", ""),
    ("Ok\n\nFrom: Ana\nSent: Monday\nTo: Bob\nSubject: Hi\n\nHello", "Ok", "", "From: Ana"),
    ("Ja gerne\n\nAm 01.12.2026 schrieb Ana:\n> Hallo", "Ja gerne", "", "Am 01.12"),
    ("Thanks!\n\nSent from my iPhone", "Thanks!", "Sent from my iPhone", ""),
    ("-- \nonly a signature", "-- \nonly a signature", "", ""),
])
def test_quoted_history_and_signatures_are_folded(body, text, signature, quoted):
    got = fold(body)
    assert got.text == text and got.signature == signature and got.quoted.startswith(quoted)


def test_a_reply_by_hand_is_one_outbox_row_threaded_under_the_answer(db):  # noqa: F811
    _answer(db, 1, "Interested, tell me more.", message_id="their.1@example.com")
    conv = conversations(db, InboxFilter())[0]
    with pytest.raises(ReplyError, match="empty"):
        queue_reply(db, conv.id, "  \n", now=MON)
    queued = queue_reply(db, conv.id, "Here it is.", now=MON)
    assert queued.subject == "Re: Hi" and queued.in_reply_to == "<their.1@example.com>"
    row = db.execute("SELECT state, node_id, bucket, inbox_id, payload FROM outbox WHERE id = ?",
                     [queued.outbox_id]).fetchone()
    assert row[:4] == ("queued", None, "email", 1)
    assert msgspec.json.decode(row[4])["references"] == ["<their.1@example.com>"]  # (our email was not recorded here)


def test_the_cli_lists_shows_tags_and_replies(tmp_path):
    ws = init_workspace(tmp_path / "cli")
    wdb = ws.open_db()
    sandbox_identity(wdb, "Ana", now=MON, email="ana@sandbox.invalid", timezone="UTC")
    contacts(wdb, [{"first_name": f"Lead{n}", "email": f"l{n}@example.com"} for n in (1, 2, 3)], now=MON)
    running_campaign(wdb, identity=1, sequence=Sequence(start="m", nodes=[Email(id="m", subject="Hi", body="hello")]),
                     name="C1", contact_ids=[1, 2, 3], now=MON)
    for lead in (3, 2):
        _answer(wdb, lead, "Not now.")
    _answer(wdb, 1, "Interested, tell me more.\n\nOn Mon, Ana wrote:\n> Hi\x1b[31m")
    ws = ws.dir
    every = ok_json(ws, "conversations", "list")
    first = ok_json(ws, "conversations", "list", "--limit", "2")
    rest = ok_json(ws, "conversations", "list", "--limit", "2", "--after", first["next_after"])
    assert every["next_after"] is None and rest["next_after"] is None
    assert [c["id"] for c in first["conversations"] + rest["conversations"]] == [c["id"] for c in every["conversations"]]
    assert len(every["conversations"]) == 3 and "--after" in fails(ws, "conversations", "list", "--after", "x")
    cid = every["conversations"][0]["id"]
    shown = enginy(ws, "conversations", "show", str(cid))
    assert shown.returncode == 0 and "Interested, tell me more." in shown.stdout
    assert "\x1b" not in shown.stdout and "folded" in shown.stdout
    assert ok_json(ws, "conversations", "tag", str(cid), "Meeting booked", "-r", "Interested")["positive"] is True
    assert "no conversation 999" in fails(ws, "conversations", "reply", "999", "--text", "hi")
    assert "empty" in fails(ws, "conversations", "reply", str(cid), "--text", " ")
    assert ok_json(ws, "conversations", "reply", str(cid), "--text", "Tuesday?")["state"] == "queued"


def test_the_side_panel_timeline_carries_the_reply_text_made_safe(db):  # noqa: F811
    body = "[bold]Yes[/bold], call me \x1b[31mThursday.\n\nOn Mon, Ana wrote:\n> Hi"
    _answer(db, 1, body)
    _answer(db, 2, "Not now, thanks; we have a vendor.")
    reader = Reader(db.conn.execute("PRAGMA database_list").fetchone()[2])
    received = [a for a in lead_detail(reader, 1, 1).timeline if a.kind == Kind.EMAIL_REPLY_RECEIVED.value]
    assert [a.text for a in received] == [body]  # its own lead's reply, not lead 2's
    shown = clean(snippet(received[0].text, REPLY_CHARS))
    assert shown == "[bold]Yes[/bold], call me \N{REPLACEMENT CHARACTER}[31mThursday."  # quoted history folded, inert


@pytest.mark.asyncio
async def test_tagged_conversations_per_period_count_the_tags_added_in_the_period(db):  # noqa: F811
    _answer(db, 1, "Sounds interesting, let's talk next week. Thanks for the note, it is a good time for us.")
    _answer(db, 2, "Not interested, thanks. We already have a vendor for this and it is fine.")
    latest = datetime.fromisoformat(db.execute("SELECT max(at) FROM messages").fetchone()[0])
    # lead 2's tags came ten days earlier (the rules tagged that reply when it arrived)
    db.execute("UPDATE conversations SET tag_times = (SELECT json_group_object(t.key, ?) FROM json_each(tag_times) t)"
               " WHERE contact_id = 2", [(latest - timedelta(days=10)).isoformat()])
    by_period = {p: conversation_tags(db, 1, s) for p, s in tag_periods_since(latest + timedelta(hours=1)).items()}
    assert {t for t, _, _ in by_period["All time"]} == {"Interested", "Not interested", "English"}
    assert {t for t, _, _ in by_period["Last 30 days"]} == {"Interested", "Not interested", "English"}
    assert sorted(by_period["Last 7 days"]) == [("English", "email", 1), ("Interested", "email", 1)]

    class Host(App):
        def compose(self):
            yield TaggedConversations(id="tagged")

    async with Host().run_test() as pilot:
        widget = pilot.app.query_one(TaggedConversations)
        widget.show(by_period)
        widget.focus()
        await pilot.press("p", "p")  # All time -> Last 30 days -> Last 7 days
        assert widget.period == "Last 7 days"
        grid = widget.content.renderables[1]
        assert sorted(str(c) for c in grid.columns[0]._cells[1:]) == ["English", "Interested"]
        await pilot.press("p")
        assert widget.period == "All time" and len(widget.content.renderables[1].rows) == 4  # + Not interested


def test_a_tag_counts_in_the_period_it_was_added(db):  # noqa: F811
    """The spec counts tags added in a period: a tag set by hand a month after the reply is this week's,
    and a tag kept across later edits keeps the time it came."""
    _answer(db, 1, "Sounds interesting, let's talk next week. Thanks for the note, it is a good time for us.")
    conv = conversations(db, InboxFilter())[0].id
    month_later, week = MON + timedelta(days=30), (MON + timedelta(days=27)).isoformat()
    set_tags(db, conv, add=["Meeting booked"], now=month_later, actor="you", by="hand")
    set_tags(db, conv, add=["Pricing question"], remove=["English"], now=month_later + timedelta(hours=1), actor="you")
    assert {tag for tag, _, _ in conversation_tags(db, 1, week)} == {"Meeting booked", "Pricing question"}
    assert {tag for tag, _, _ in conversation_tags(db, 1)} == {"Interested", "Meeting booked", "Pricing question"}


def test_tags_from_before_tag_times_count_from_the_leads_last_message(db):  # noqa: F811
    """m065 on a workspace tagged before it: each tag's time is the lead's last message (what the
    widget counted by until then); a conversation the lead never wrote in takes its last change."""
    from storage.migrations import m065_conversation_tag_times as m065

    _answer(db, 1, "Sounds interesting, let's talk next week. Thanks for the note, it is a good time for us.")
    conv = conversations(db, InboxFilter())[0]
    db.execute("ALTER TABLE conversations DROP COLUMN tag_times")  # as it was before m065
    m065.migrate(db)
    last_in = db.execute("SELECT max(at) FROM messages WHERE conversation_id = ? AND direction = 'in'",
                         [conv.id]).fetchone()[0]
    times = msgspec.json.decode(db.execute("SELECT tag_times FROM conversations WHERE id = ?", [conv.id]).fetchone()[0])
    assert times == {tag: last_in for tag in conv.tags} and conv.tags
