"""An inbox's warm-up: the ramp (pure), the cap the runtime's limits enforce day by day in the
identity's time zone, push-back from bounces, and `enginy inbox warmup`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from runtime import limits
from sequences import warmup
from sequences.working_hours import WorkingHours

ROOT = Path(__file__).parent.parent


def test_the_ramp_goes_from_5_to_the_cap_and_steps_down_when_receivers_push_back():
    caps = warmup.schedule(40, 21)
    assert len(caps) == 21 and caps[0] == 5 and caps[-1] == 40
    assert all(a <= b for a, b in zip(caps, caps[1:]))
    assert warmup.schedule(4, 14) == (4,) * 14  # a cap below 5 is never exceeded
    assert warmup.stepped_down(caps, 9, 9) == caps  # too few emails to judge
    assert warmup.stepped_down(caps, 50, 2) == caps  # 4 %: fine
    assert warmup.stepped_down(caps, 50, 3)[-1] == 20  # 6 %: halved
    assert set(warmup.stepped_down(caps, 50, 5)) == {5}  # 10 %: back to the start


def test_the_day_cap_follows_the_ramp_in_the_identitys_local_days():
    hours = WorkingHours.parse("America/New_York", "mon,tue,wed,thu,fri,sat,sun", "09:00", "17:00")
    inbox = {"per_day": 40, "per_hour": 10, "warmup_start": "2026-03-02", "warmup_days": 21}
    rules = limits.email_rules(inbox)
    day1 = datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)  # 09:00 in New York, day 1
    log = limits.ActionTimes([day1 + timedelta(minutes=7 * i) for i in range(5)])
    after = day1 + timedelta(hours=1)
    assert limits.remaining_today(rules, log, after, hours) == 0
    assert limits.earliest_allowed(rules, log, after, hours) == datetime(2026, 3, 3, 14, 0, tzinfo=timezone.utc)
    day8 = datetime(2026, 3, 9, 13, 0, tzinfo=timezone.utc)  # 09:00 EDT, a week later
    assert limits.remaining_today(rules, limits.ActionTimes(), day8, hours) == warmup.schedule(40, 21)[7] == 17
    after_ramp = datetime(2026, 4, 1, 15, 0, tzinfo=timezone.utc)
    assert limits.remaining_today(rules, limits.ActionTimes(), after_ramp, hours) == 40
    assert limits.email_rules({"per_day": 40, "per_hour": 10}) == (limits.day(40), limits.rolling(10, 3600))


def enginy(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_warmup_command_starts_shows_and_stops_and_bounces_step_it_down(ws):
    from storage.db import open_db
    from storage.inboxes import connected_inboxes

    assert enginy(ws, "identity", "add", "Ana").returncode == 0
    db = open_db(ws / "enginy.db")
    at = "2026-03-02T09:00:00+00:00"
    with db.conn:
        db.execute("INSERT INTO inboxes (id, identity_id, email, provider, imap_host, imap_port, smtp_host, smtp_port,"
                   " tls_mode, per_day, per_hour, connected, created_at, updated_at) VALUES (1, 1, 'ana@x.test',"
                   " 'imap', 'h', 993, 'h', 465, 'implicit', 40, 5, 1, ?, ?)", [at, at])
    assert "not warming up" in enginy(ws, "inbox", "warmup", "1").stdout
    started = enginy(ws, "inbox", "warmup", "ana@x.test", "--start", "--days", "14")
    assert started.returncode == 0 and "day 1 of 14, 5 emails today" in started.stdout
    assert "pause the campaigns that use this identity" in started.stdout
    shown = json.loads(enginy(ws, "inbox", "warmup", "1", "--json").stdout)
    assert shown["warming_up"] and shown["cap_today"] == 5 and len(shown["schedule"]) == 14
    assert connected_inboxes(db, 1)[0]["warmup_sent"] == 0
    # 20 emails sent, 2 of them bounced: 10 % — the ramp goes back to 5 a day
    with db.conn:
        for i in range(1, 21):
            db.execute("INSERT INTO outbox (id, key, identity_id, inbox_id, node_id, channel, action, bucket, state,"
                       " created_at, updated_at) VALUES (?, ?, 1, 1, 'e1', 'email', 'email', 'email', 'sent', ?, ?)",
                       [i, f"k{i}", at, at])
        for i in (3, 9):
            db.execute("INSERT INTO mail_inbound (inbox_id, folder, uidvalidity, uid, fingerprint, kind, outbox_id,"
                       " received_at) VALUES (1, 'INBOX', 1, ?, ?, 'bounce', ?, ?)",
                       [i, f"f{i}", i, at])
    pushed = json.loads(enginy(ws, "inbox", "warmup", "1", "--json").stdout)
    assert (pushed["recent_sent"], pushed["recent_bounced"]) == (20, 2) and set(pushed["schedule"]) == {5}
    assert limits.email_rules(connected_inboxes(db, 1)[0])[0].ramp[-1] == 5  # what the runtime enforces
    stopped = json.loads(enginy(ws, "inbox", "warmup", "1", "--stop", "--json").stdout)
    assert not stopped["warming_up"] and stopped["cap_today"] == 40
    both = enginy(ws, "inbox", "warmup", "1", "--start", "--stop")
    assert both.returncode == 2 and "cannot go together" in both.stderr
