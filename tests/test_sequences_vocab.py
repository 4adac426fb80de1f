"""Statuses, templates (data, CLI, save-as), preview and rendering details.

Screens, the CLI and the runtime all explain a lead with these words and
build campaigns from these templates, so they are pinned to the spec here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sequences.limits import INVITATION_COOLDOWN
from sequences.preview import preview
from sequences.render import LeadData, PREVIEW_LEAD, render
from sequences.validate import validate
from sequences.model import (
    AddToCampaign, ConnectionRequest, Email, InMail, LinkedInMessage, ReactToPost, Sequence, Task, VisitProfile,
    VoiceMessage, bucket_of, channel_of, counts_as_message,
)
from sequences.render import canonical, variables_in
from sequences.statuses import (
    ACTIVE_CAMPAIGN_STATUSES, CAMPAIGN_TRANSITIONS, CampaignStatus, LeadStatus, Priority, Substatus, explain,
)
from sequences.templates import BUILTIN_TEMPLATES, SPEC_TEMPLATE_NAMES, TemplateError, find_template, save_as_template

ROOT = Path(__file__).resolve().parent.parent


# --- statuses ------------------------------------------------------------------


def test_every_status_and_substatus_has_a_label_and_a_description():
    for status in LeadStatus:
        assert status.label and status.description
    for sub in Substatus:
        assert sub.label and sub.description.endswith(".") and sub.status in (
            LeadStatus.IN_PROGRESS, LeadStatus.ERROR, LeadStatus.FINISHED)
    assert Substatus.NOT_CONNECTED.status is LeadStatus.FINISHED
    assert Substatus.WAITING_TO_CONNECT.label == "Waiting to connect"


def test_driver_errors_carry_the_vocabularys_substatus():
    """Drivers raise errors that carry `sequences`' Substatus itself: no label to map back."""
    from runtime.channels.linkedin import protocol

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for cls in (protocol.LinkedInError, *subclasses(protocol.LinkedInError)):
        assert cls.default_substatus is None or isinstance(cls.default_substatus, Substatus), cls
    with pytest.raises(protocol.InvalidAction) as refused:
        protocol.check_note("n" * 301)
    assert refused.value.substatus is Substatus.MESSAGE_TOO_LONG


def test_an_inmail_subject_the_driver_refuses_is_refused_by_validation_and_at_step_time():
    """The InMail subject limit once lived only in the driver: a campaign passed validation, then failed at send."""
    from runtime.channels.linkedin import protocol
    from sequences.limits import INMAIL_SUBJECT_MAX_CHARS
    from sequences.model import InMail, Sequence

    longest = "s" * INMAIL_SUBJECT_MAX_CHARS
    assert protocol.check_inmail(longest, "body") == (longest, "body")
    with pytest.raises(protocol.InvalidAction) as refused:
        protocol.check_inmail(longest + "s", "body")
    seq = Sequence(start="i", nodes=[InMail(id="i", subject=longest + "s", body="Hello")])
    assert [e.substatus for e in validate(seq)] == [refused.value.substatus]
    assert validate(Sequence(start="i", nodes=[InMail(id="i", subject=longest, body="Hello")])) == []


def test_active_tab_is_running_and_scheduled_and_archived_is_final():
    assert ACTIVE_CAMPAIGN_STATUSES == {CampaignStatus.RUNNING, CampaignStatus.SCHEDULED}
    assert CampaignStatus.RUNNING.active and not CampaignStatus.PAUSED.active
    assert CAMPAIGN_TRANSITIONS[CampaignStatus.ARCHIVED] == frozenset()
    assert all(s.description for s in CampaignStatus)


def test_priorities_run_high_then_medium_then_low():
    assert Priority.ordered() == [Priority.HIGH, Priority.MEDIUM, Priority.LOW]
    assert sorted([Priority.LOW, Priority.HIGH, Priority.MEDIUM], key=lambda p: p.rank)[0] is Priority.HIGH


# --- classification ------------------------------------------------------------------


@pytest.mark.parametrize(("node", "channel", "bucket", "message"), [
    (VisitProfile(id="x"), "linkedin", "profile_visit", False),
    (ReactToPost(id="x"), "linkedin", "post_reaction", False),
    (ConnectionRequest(id="x"), "linkedin", "connection_request", False),
    (LinkedInMessage(id="x", chunks=["a"]), "linkedin", "message", True),
    (InMail(id="x", subject="s", body="b"), "linkedin", "inmail", True),
    (VoiceMessage(id="x", file="f"), "linkedin", "message", True),
    (Email(id="x", subject="s", body="b"), "email", "email", True),
    (Task(id="x", title="t"), "task", None, False),
    (AddToCampaign(id="x", campaign="c"), "internal", None, False),
])
def test_each_action_knows_its_channel_bucket_and_whether_it_is_a_message(node, channel, bucket, message):
    assert (channel_of(node), bucket_of(node), counts_as_message(node)) == (channel, bucket, message)


# --- rendering --------------------------------------------------------------------------


def test_variables_typed_the_way_people_type_them():
    lead = LeadData(first_name="Ann", company="Acme", job_title="CTO", custom={"Team Size": "12"})
    assert render("hi {first name}, {First_Name} at {company_name} ({title})", lead) == "hi Ann, Ann at Acme (CTO)"
    assert render("{custom.Team Size} people, {{literal}}", lead) == "12 people, {literal}"
    assert canonical("Mobile Phone") == "phone" and variables_in("a {x|y} {{z}}") == ["x"]


def test_an_empty_fallback_is_allowed_and_a_missing_value_names_the_variable():
    lead = LeadData(first_name="Ann")
    assert render("Hi {first_name}{custom.ps|}", lead) == "Hi Ann"
    missing = render("at {company}", lead)
    assert missing.variable == "company" and "{company}" in missing.reason


def test_unknown_variables_are_refused_by_validation_naming_the_step():
    seq = Sequence(start="m", nodes=[LinkedInMessage(id="m", chunks=["Hi {frist_name}"])])
    (error,) = validate(seq)
    assert error.node == "m" and "frist_name" in error.message and "step m" in error.message


# --- preview -----------------------------------------------------------------------------


def test_preview_renders_every_step_and_says_which_would_stop_the_lead():
    seq = find_template("Conditional multichannel").sequence
    steps = preview(seq)
    assert {s.node for s in steps} == {n.id for n in seq.nodes}
    assert all(s.error is None for s in steps)  # the sample lead has every field
    invite = next(s for s in steps if s.node == "invite")
    assert PREVIEW_LEAD.first_name in invite.payload.note
    bare = preview(seq, LeadData(first_name="Z"))
    assert any(s.error is Substatus.MISSING_CONTACT_EMAIL for s in bare)


# --- templates -----------------------------------------------------------------------------


def test_templates_follow_the_spec_table_and_use_its_channels():
    by_name = {t.name: t for t in BUILTIN_TEMPLATES}
    assert list(by_name)[:7] == list(SPEC_TEMPLATE_NAMES)
    assert by_name["Email Only"].channels == ["email"]
    assert sum(isinstance(n, Email) for n in by_name["Email Only"].sequence.nodes) == 3
    assert by_name["LinkedIn + Email + Call"].channels == ["linkedin", "email", "task"]
    warming = [type(n).__name__ for n in by_name["LinkedIn Social Warming"].sequence.nodes][:3]
    assert warming == ["VisitProfile", "ReactToPost", "ConnectionRequest"]
    voice = by_name["LinkedIn + Add Voice Message"].sequence.nodes
    follow_ups = [n for n in voice if counts_as_message(n)]
    assert len(follow_ups) == 3 and isinstance(follow_ups[1], VoiceMessage)


def test_save_as_template_checks_name_uniqueness_and_validity():
    seq = find_template("email-only").sequence
    saved = save_as_template("  My flow ", seq, "mine", existing=())
    assert (saved.name, saved.builtin, saved.slug) == ("My flow", False, "my-flow")
    with pytest.raises(TemplateError, match="built-in"):
        save_as_template("EMAIL ONLY", seq, existing=())
    with pytest.raises(TemplateError, match="already"):
        save_as_template("my-flow", seq, existing=(saved,))
    with pytest.raises(TemplateError, match="not valid"):
        save_as_template("Broken", Sequence(start="x", nodes=[]), existing=())
    with pytest.raises(TemplateError, match="name"):
        save_as_template("  ", seq, existing=())
    # rebuilding a stored template checks nothing, so old templates still load
    assert save_as_template("Email Only", seq).builtin is False


# --- CLI ------------------------------------------------------------------------------------


def _app():
    from cli.main import app

    return app


def test_cli_lists_templates_as_json():
    result = CliRunner().invoke(_app(), ["templates", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == [t.name for t in BUILTIN_TEMPLATES]
    assert {"slug", "categories", "channels", "overview", "best_for", "steps"} <= set(rows[0])


@pytest.mark.parametrize("name", ["linkedin social warming", "LINKEDIN-SOCIAL-WARMING", "LinkedIn Social Warming"])
def test_cli_shows_a_template_by_name_or_slug_in_any_case(name):
    result = CliRunner().invoke(_app(), ["templates", "show", name, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    from sequences.model import from_json

    seq = from_json(json.dumps(data["sequence"]))
    assert data["name"] == "LinkedIn Social Warming" and validate(seq) == []
    human = CliRunner().invoke(_app(), ["templates", "show", name])
    assert "Visit profile" in human.stdout and "yes →" in human.stdout


def test_cli_unknown_template_is_one_line_exit_2_listing_the_names():
    enginy = ROOT / ".venv" / "bin" / "enginy"
    cmd = [str(enginy)] if enginy.exists() else [sys.executable, "-c", "from cli.main import run; run()"]
    out = subprocess.run([*cmd, "templates", "show", "no such thing"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "no such thing" in out.stderr and "Email Only" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_connection_withdrawn_says_the_real_days_left():
    """The spec's "X days remaining before retry" is filled in, rounded up; never a literal X."""
    withdrawn = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    retry = withdrawn + INVITATION_COOLDOWN
    assert explain(Substatus.CONNECTION_WITHDRAWN, now=withdrawn, retry_at=retry).endswith(
        "21 days remaining before retry.")
    assert "1 day remaining" in explain(Substatus.CONNECTION_WITHDRAWN, now=retry - timedelta(hours=3),
                                        retry_at=retry)
    assert " X " not in explain(Substatus.CONNECTION_WITHDRAWN)
    assert explain(Substatus.QUEUED, place=3).endswith("Place 3 in line.")


def test_a_wait_is_read_from_the_lead_and_explained_with_its_detail():
    """One reading of a lead's wait (sequences.statuses.wait_of): a lane's end wins, a delay or a
    retry ends at the lead's due time, a lead that is not In progress does not wait."""
    from zoneinfo import ZoneInfo

    from sequences.statuses import Wait, wait_of

    tue = datetime(2026, 3, 24, 8, tzinfo=timezone.utc)
    capped = wait_of("in_progress", "identity_limits", "invitations 20 per day", tue.isoformat(), None)
    assert capped == Wait(Substatus.IDENTITY_LIMITS, "invitations 20 per day", tue)
    assert wait_of("in_progress", "scheduled", None, None, tue.isoformat()) == Wait(Substatus.SCHEDULED, None, tue)
    assert wait_of("in_progress", "waiting_to_connect", None, None, tue.isoformat()).until is None
    assert wait_of("paused", "scheduled", None, None, tue.isoformat()) is None
    assert wait_of("error", "system_error", None, None, None) is None
    madrid = ZoneInfo("Europe/Madrid")
    assert explain(Substatus.IDENTITY_LIMITS, wait=capped, tz=madrid) == (
        "The identity has reached its limit: invitations 20 per day. Refills Tue 24 Mar 09:00 (Europe/Madrid).")
    opening = Wait(Substatus.OUTSIDE_WORKING_HOURS, None, tue)
    assert explain(Substatus.OUTSIDE_WORKING_HOURS, wait=opening, tz=madrid).endswith(
        "outside configured working hours. Next opening Tue 24 Mar 09:00 (Europe/Madrid).")
    assert explain(Substatus.IDENTITY_LIMITS) == Substatus.IDENTITY_LIMITS.description  # no detail: the spec's words
