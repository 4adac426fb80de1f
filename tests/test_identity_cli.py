"""`enginy identity …` through the real command, and the identity rules at the storage level."""

from __future__ import annotations

import pytest

from storage.identities import IdentityError, create_identity, parse_days, update_identity
from tests.support.campaign_workspace import NOW, counts, enginy, fails, make_workspace, ok_json


def test_add_sandbox_identity_with_hours_and_defaults(ws):
    out = ok_json(ws, "identity", "add", "Ada Lovelace", "--sandbox", "--timezone", "Europe/Madrid",
                  "--working-days", "mon-thu,sat", "--hours", "8:30-17:00", "--email", "ada@example.com")
    assert out["id"] == 1 and out["name"] == "Ada Lovelace"
    assert out["working_hours"] == {"timezone": "Europe/Madrid", "days": ["mon", "tue", "wed", "thu", "sat"],
                                    "start": "08:30", "end": "17:00"}
    li = out["linkedin"]
    assert li["connection"] == "sandbox" and li["daily_connections"] == 20 and li["daily_messages"] == 100
    assert li["auto_withdraw"] is True and li["premium"] is False
    assert out["inboxes"] == [{"id": 1, "email": "ada@example.com", "provider": "sandbox", "per_day": 30,
                               "per_hour": 5, "connected": True}]
    from storage.workspace import open_workspace

    db = open_workspace(ws).open_db()
    acts = list(db.query("SELECT kind, actor, identity_id FROM activity ORDER BY id"))
    assert [(a["kind"], a["actor"]) for a in acts] == [("identity_created", "you"), ("identity_connected", "you")]


def test_new_identities_take_working_hours_from_enginy_toml(ws):
    toml = (ws / "enginy.toml").read_text().replace('timezone = "UTC"', 'timezone = "America/New_York"')
    (ws / "enginy.toml").write_text(toml.replace('user = "you"', 'user = "maria"'))
    out = ok_json(ws, "identity", "add", "Bob")
    assert out["working_hours"]["timezone"] == "America/New_York"
    assert out["linkedin"]["connection"] == "not connected" and out["inboxes"] == []
    from storage.workspace import open_workspace

    db = open_workspace(ws).open_db()
    assert db.execute("SELECT actor FROM activity").fetchone()[0] == "maria"


def test_limits_premium_and_withdrawal_settings(ws):
    out = ok_json(ws, "identity", "add", "Cy", "--linkedin-daily-connections", "100", "--linkedin-daily-messages",
                  "150", "--premium", "--sales-navigator", "--inmail-credits", "12", "--monthly-conversation-limit",
                  "300", "--no-auto-withdraw", "--withdraw-after-days", "15")
    li = out["linkedin"]
    assert (li["daily_connections"], li["daily_messages"], li["inmail_credits"]) == (100, 150, 12)
    assert li["premium"] and li["sales_navigator"] and li["monthly_conversation_limit"] == 300
    assert li["auto_withdraw"] is False and li["withdraw_after_days"] == 15


@pytest.mark.parametrize("args,needle", [
    (("--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
    (("--linkedin-daily-connections", "0"), "between 1 and 100"),
    (("--linkedin-daily-connections", "101"), "between 1 and 100"),
    (("--linkedin-daily-messages", "151"), "between 1 and 150"),
    (("--withdraw-after-days", "0"), "between 1 and 180"),
    (("--inmail-credits", "-1"), "InMail credits"),
    (("--hours", "18:00-09:00"), "must end after it starts"),
    (("--hours", "9am-5pm"), "expected a time like 09:00"),
    (("--working-days", "fri-mon"), "runs backwards"),
    (("--working-days", "funday"), "not a day"),
    (("--email", "not-an-address"), "not an email address"),
])
def test_bad_identity_input_is_one_line_and_writes_nothing(ws, args, needle):
    line = fails(ws, "identity", "add", "Bad", "--sandbox", *args)
    assert needle in line
    from storage.workspace import open_workspace

    db = open_workspace(ws).open_db()
    assert counts(db, "identities") == 0 and counts(db, "inboxes") == 0 and counts(db, "activity") == 0


def test_edit_show_and_list_by_name_or_id(ws):
    ok_json(ws, "identity", "add", "Ada", "--hours", "09:00-18:00")
    out = ok_json(ws, "identity", "edit", "Ada", "--hours", "10:00-16:00", "--linkedin-daily-connections", "25",
                  "--name", "Ada L")
    assert out["working_hours"]["start"] == "10:00" and out["linkedin"]["daily_connections"] == 25
    assert ok_json(ws, "identity", "show", "1")["name"] == "Ada L"
    assert [i["name"] for i in ok_json(ws, "identity", "list")] == ["Ada L"]
    assert "must end after it starts" in fails(ws, "identity", "edit", "1", "--hours", "17:00-16:00")
    assert "no identity 'Zed'" in fails(ws, "identity", "edit", "Zed", "--premium")
    assert "nothing to change" in fails(ws, "identity", "edit", "1")
    # a refused edit changed nothing
    assert ok_json(ws, "identity", "show", "1")["working_hours"]["start"] == "10:00"


def test_pause_and_resume_an_identitys_linkedin_queue(ws):
    """The Queues screen's pause, for scripts: one identity or --all, said back, and an error for neither."""
    ok_json(ws, "identity", "add", "Ada")
    ok_json(ws, "identity", "add", "Bo")
    assert ok_json(ws, "identity", "pause", "Ada") == [{"id": 1, "name": "Ada", "linkedin_queue_paused": True}]
    assert [i["linkedin"]["queue_paused"] for i in ok_json(ws, "identity", "list")] == [True, False]
    assert [r["id"] for r in ok_json(ws, "identity", "resume", "--all")] == [1, 2]
    assert [i["linkedin"]["queue_paused"] for i in ok_json(ws, "identity", "list")] == [False, False]
    assert "LinkedIn queue paused: #2 Bo" in enginy(ws, "identity", "pause", "Bo").stdout
    assert "name one identity, or --all" in fails(ws, "identity", "pause")
    assert "no identity 'Zed'" in fails(ws, "identity", "resume", "Zed")


def test_connect_sandbox_later_is_idempotent(ws):
    ok_json(ws, "identity", "add", "Ada")
    first = ok_json(ws, "identity", "connect-sandbox", "Ada")
    again = ok_json(ws, "identity", "connect-sandbox", "Ada")
    assert first["inboxes"] == again["inboxes"] and len(again["inboxes"]) == 1
    assert again["inboxes"][0]["email"] == "identity-1@sandbox.invalid"


def test_storage_level_rules(tmp_path):
    _, db = make_workspace(tmp_path)
    assert parse_days("Mon - Wed") == "mon,tue,wed"
    assert parse_days(["sun", "mon"]) == "mon,sun"
    ident = create_identity(db, "Ada", now=NOW, actor="you", timezone="Asia/Tokyo")
    with pytest.raises(IdentityError, match="not an identity setting"):
        update_identity(db, ident, now=NOW, actor="you", password="x")
    with pytest.raises(IdentityError, match="must end after it starts"):
        update_identity(db, ident, now=NOW, actor="you", work_start="19:00")
    row = update_identity(db, ident, now=NOW, actor="you", monthly_conversation_limit=None, premium=True)
    assert row["premium"] == 1 and row["timezone"] == "Asia/Tokyo"
