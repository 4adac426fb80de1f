"""The step function's rules one by one, each on the smallest sequence that shows it.

The runtime trusts these rules blindly (it sends whatever job comes out), so
each one is pinned here with a case that fails if the rule is broken.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from sequences.step import Accepted, ActionDone, ActionFailed, Blocked, Bounced, Delayed, Due, InvitationWithdrawn, LeadFacts, OutOfOffice, Paused, Removed, Replied, Resumed, Retry, Start, State, compile_sequence, compiled_for, step
from sequences.model import (
    AcceptedConnection, ConnectionRequest, Delay, Email, HasProfessionalEmail, InMail, IsConnection,
    LinkedInAttachment, LinkedInMessage, ReactToPost, Sequence, Task, VisitProfile, VoiceMessage,
)
from sequences.statuses import LeadStatus, Substatus
from sequences.limits import INVITATION_COOLDOWN
from sequences.step import DELIVERY_DELAY_WAIT, MAX_RETRIES, RETRY_WAIT

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
ANN = LeadFacts(first_name="Ann", last_name="Lee", company="Acme", email="ann@acme.test",
                linkedin_id="ACoAA1", linkedin_url="https://www.linkedin.com/in/ann/")


class Lead:
    """Drives one enrollment: feeds events, keeps the state, collects jobs and log."""

    def __init__(self, seq: Sequence, lead: LeadFacts = ANN, **options) -> None:
        self.seq, self.lead, self.options = seq, lead, options
        self.state = State()
        self.jobs: list = []
        self.log: list = []

    def __call__(self, event, at: datetime):
        tr = step(self.seq, self.state, self.lead, event, at, **self.options)
        self.state = tr.state
        self.jobs.extend(tr.jobs)
        self.log.extend(tr.log)
        return tr

    @property
    def sent(self) -> list[tuple[str, int]]:
        return [(j.node, j.attempt) for j in self.jobs]


EMAILS = Sequence(start="e1", nodes=[
    Email(id="e1", subject="Hi {first_name}", body="Hello {first_name}", next="e2"),
    Email(id="e2", body="Following up", delay=Delay(days=3), next="e3"),
    Email(id="e3", body="Last one", delay=Delay(days=4)),
])

INVITE = Sequence(start="inv", nodes=[
    ConnectionRequest(id="inv", note="Hi {first_name}", next="acc"),
    AcceptedConnection(id="acc", within_days=7, yes="msg", no="mail"),
    LinkedInMessage(id="msg", chunks=["Thanks {first_name}"], delay=Delay(days=1)),
    Email(id="mail", subject="Quick note", body="Hi {first_name}"),
])


# --- delays ------------------------------------------------------------------


def test_a_late_completion_moves_the_next_step_later_never_earlier():
    lead = Lead(EMAILS)
    lead(Start(), T0)
    late = T0 + 2 * DAY  # e1 waited two days in the queue
    lead(ActionDone("e1", late), late)
    assert lead.state.due_at == late + 3 * DAY and lead.state.substatus is Substatus.SCHEDULED
    lead(Due(), late + 3 * DAY - timedelta(minutes=1))
    assert lead.sent == [("e1", 0)]
    lead(Due(), late + 3 * DAY)
    assert lead.sent == [("e1", 0), ("e2", 0)]


def test_delays_add_up_through_conditions_from_the_last_completed_action():
    seq = Sequence(start="v", nodes=[
        VisitProfile(id="v", next="c"),
        HasProfessionalEmail(id="c", yes="t", delay=Delay(days=1)),
        Task(id="t", title="Call", delay=Delay(days=2)),
    ])
    lead = Lead(seq)
    lead(Start(), T0)
    lead(ActionDone("v", T0), T0)
    assert lead.state.due_at == T0 + DAY
    # the runtime is an hour late evaluating the condition: the task still counts from the visit
    lead(Due(), T0 + DAY + timedelta(hours=1))
    assert lead.state.node == "t" and lead.state.due_at == T0 + 3 * DAY


def test_asap_steps_run_in_the_same_call_and_conditions_resolve_at_once():
    seq = Sequence(start="c1", nodes=[
        IsConnection(id="c1", yes=None, no="c2"),
        HasProfessionalEmail(id="c2", yes="e", no=None),
        Email(id="e", subject="s", body="b"),
    ])
    tr = step(seq, State(), ANN, Start(), T0)
    assert [j.node for j in tr.jobs] == ["e"]
    assert [(e.node, e.what) for e in tr.log] == [(None, "started"), ("c1", "no"), ("c2", "yes")]
    assert all(e.at == T0 for e in tr.log)


# --- acceptance, withdrawal ---------------------------------------------------


def test_waiting_to_connect_until_accepted_then_yes_counts_from_the_acceptance():
    lead = Lead(INVITE)
    lead(Start(), T0)
    lead(ActionDone("inv", T0), T0)
    assert (lead.state.status, lead.state.substatus) == (LeadStatus.IN_PROGRESS, Substatus.WAITING_TO_CONNECT)
    assert lead.state.acceptance_deadline == T0 + 7 * DAY
    accepted = T0 + 2 * DAY
    lead(Accepted(accepted), accepted + timedelta(minutes=5))  # the poller noticed five minutes later
    assert lead.state.node == "msg" and lead.state.due_at == accepted + DAY


def test_deadline_passes_into_the_no_branch():
    lead = Lead(INVITE)
    lead(Start(), T0)
    lead(ActionDone("inv", T0), T0)
    lead(Due(), T0 + 7 * DAY)
    assert lead.sent == [("inv", 0), ("mail", 0)]


def test_no_branch_that_ends_is_not_connected_but_an_end_elsewhere_is_no_response():
    seq = Sequence(start="inv", nodes=[
        ConnectionRequest(id="inv", next="acc"),
        AcceptedConnection(id="acc", within_days=3, yes="m"),
        LinkedInMessage(id="m", chunks=["hi"]),
    ])
    lead = Lead(seq)
    lead(Start(), T0)
    lead(ActionDone("inv", T0), T0)
    lead(Due(), T0 + 3 * DAY)
    assert (lead.state.status, lead.state.substatus) == (LeadStatus.FINISHED, Substatus.NOT_CONNECTED)
    lead = Lead(seq)
    lead(Start(), T0)
    lead(ActionDone("inv", T0), T0)
    lead(Accepted(T0 + DAY), T0 + DAY)
    lead(ActionDone("m", T0 + DAY), T0 + DAY)
    assert lead.state.substatus is Substatus.NO_RESPONSE


def test_acceptance_while_paused_is_remembered_and_used_on_resume():
    lead = Lead(INVITE)
    lead(Start(), T0)
    lead(ActionDone("inv", T0), T0)
    lead(Paused(), T0 + DAY)
    lead(Accepted(T0 + 2 * DAY), T0 + 2 * DAY)
    assert lead.state.status is LeadStatus.PAUSED and lead.sent == [("inv", 0)]
    lead(Resumed(), T0 + 3 * DAY)
    assert lead.state.node == "msg" and lead.state.status is LeadStatus.IN_PROGRESS


def test_withdrawn_while_waiting_reinvites_after_three_weeks_with_a_new_attempt():
    lead = Lead(INVITE)
    lead(Start(), T0)
    lead(ActionDone("inv", T0), T0)
    w = T0 + 5 * DAY
    lead(InvitationWithdrawn(), w)
    assert (lead.state.status, lead.state.substatus) == (LeadStatus.IN_PROGRESS, Substatus.CONNECTION_WITHDRAWN)
    assert lead.state.due_at == lead.state.withdrawn_until == w + INVITATION_COOLDOWN == w + timedelta(days=21)
    lead(Due(), w + INVITATION_COOLDOWN)
    assert lead.sent == [("inv", 0), ("inv", 1)]
    again = w + INVITATION_COOLDOWN
    lead(ActionDone("inv", again), again)
    assert lead.state.acceptance_deadline == again + 7 * DAY  # a fresh window for the new invitation
    lead(InvitationWithdrawn(), again + DAY)  # a second withdrawal: move on through No
    assert lead.sent[-1] == ("mail", 0)


def test_withdrawal_after_the_lead_moved_on_never_rewinds_it():
    lead = Lead(INVITE)
    lead(Start(), T0)
    lead(ActionDone("inv", T0), T0)
    lead(Due(), T0 + 7 * DAY)  # No branch: the email job is out
    lead(ActionDone("mail", T0 + 7 * DAY), T0 + 7 * DAY)
    lead(InvitationWithdrawn(), T0 + 8 * DAY)
    assert lead.sent == [("inv", 0), ("mail", 0)]
    assert lead.state.substatus is Substatus.NO_RESPONSE


def test_a_connection_request_inside_the_cooldown_waits_for_its_end():
    seq = Sequence(start="a", nodes=[
        VisitProfile(id="a", next="b"), ConnectionRequest(id="b", delay=Delay(days=1)),
    ])
    lead = Lead(seq)
    lead(Start(), T0)
    lead(InvitationWithdrawn(), T0)  # withdrawn elsewhere (manual bulk withdrawal)
    lead(ActionDone("a", T0), T0)
    lead(Due(), T0 + DAY)
    assert lead.sent == [("a", 0)] and lead.state.substatus is Substatus.CONNECTION_WITHDRAWN
    assert lead.state.due_at == T0 + INVITATION_COOLDOWN
    lead(Due(), T0 + INVITATION_COOLDOWN)
    assert lead.sent == [("a", 0), ("b", 0)]


# --- replies, bounces, final events ---------------------------------------------


@pytest.mark.parametrize(("event", "status", "substatus"), [
    (Replied(), LeadStatus.REPLIED, None),
    (Bounced(hard=True), LeadStatus.FINISHED, Substatus.BOUNCED),
    (OutOfOffice(), LeadStatus.FINISHED, Substatus.OUT_OF_OFFICE),
    (Removed(), LeadStatus.FINISHED, Substatus.DELETED),
    (Blocked(), LeadStatus.FINISHED, Substatus.BLOCKED),
])
def test_final_events_stop_everything_that_follows(event, status, substatus):
    lead = Lead(EMAILS)
    lead(Start(), T0)
    lead(event, T0 + timedelta(hours=1))
    assert (lead.state.status, lead.state.substatus) == (status, substatus)
    assert lead.state.due_at is None
    for later in (ActionDone("e1", T0 + DAY), Due(), Retry(), Resumed(), Accepted(T0), Start()):
        assert step(EMAILS, lead.state, ANN, later, T0 + 9 * DAY).jobs == ()


def test_a_reply_after_the_sequence_finished_still_counts_as_replied():
    lead = Lead(Sequence(start="t", nodes=[Task(id="t", title="Call")]))
    lead(Start(), T0)
    lead(ActionDone("t", T0), T0)
    assert lead.state.substatus is Substatus.NO_RESPONSE
    lead(Replied(), T0 + DAY)
    assert lead.state.status is LeadStatus.REPLIED


def test_soft_bounce_after_later_steps_ran_does_not_repeat_them():
    seq = Sequence(start="e", nodes=[Email(id="e", subject="s", body="b", next="v"), VisitProfile(id="v", next="t"),
                                     Task(id="t", title="Call", delay=Delay(days=2))])
    lead = Lead(seq)
    lead(Start(), T0)
    lead(ActionDone("e", T0), T0)
    lead(ActionDone("v", T0), T0)
    lead(Bounced(hard=False), T0 + timedelta(hours=2))
    lead(Due(), T0 + 2 * DAY)
    assert lead.sent == [("e", 0), ("v", 0), ("t", 0)]
    assert lead.state.soft_bounces == 1


def test_soft_bounce_resend_uses_a_key_never_used_before():
    lead = Lead(EMAILS)
    lead(Start(), T0)
    lead(ActionFailed("e1", Substatus.SYSTEM_ERROR, retryable=True), T0)
    lead(Due(), T0 + RETRY_WAIT)
    lead(ActionDone("e1", T0 + RETRY_WAIT), T0 + RETRY_WAIT)
    lead(Bounced(hard=False), T0 + 2 * RETRY_WAIT)
    lead(Due(), T0 + 2 * RETRY_WAIT + DAY)
    assert lead.sent == [("e1", 0), ("e1", 1), ("e1", 2)]
    assert lead.state.message_depth == 0  # the bounced email never reached the lead


def test_a_delivery_delay_holds_only_a_step_that_waits_for_time_and_never_finishes_the_lead():
    lead = Lead(EMAILS)
    lead(Start(), T0)
    lead(Delayed(until=T0 + DAY), T0)  # the first email's job is out: nothing to hold
    assert lead.state.substatus is Substatus.QUEUED
    lead(ActionDone("e1", T0), T0)
    lead(Delayed(until=T0 + 30 * DAY), T0 + DAY)  # a horizon past the cap is cut to DELIVERY_DELAY_WAIT
    assert (lead.state.status, lead.state.substatus) == (LeadStatus.IN_PROGRESS, Substatus.DELIVERY_DELAYED)
    assert lead.state.due_at == T0 + DAY + DELIVERY_DELAY_WAIT
    lead(Delayed(until=T0), T0 + DAY)  # a shorter horizon never pulls the step earlier
    assert lead.state.due_at == T0 + DAY + DELIVERY_DELAY_WAIT
    lead(Paused(), T0 + 2 * DAY)
    lead(Resumed(), T0 + 3 * DAY)
    assert lead.state.substatus is Substatus.DELIVERY_DELAYED and lead.sent == [("e1", 0)]
    lead(Due(), T0 + DAY + DELIVERY_DELAY_WAIT)
    assert lead.sent == [("e1", 0), ("e2", 0)] and lead.state.substatus is Substatus.QUEUED
    done = Lead(EMAILS)
    done(Start(), T0)
    done(Replied(), T0)
    done(Delayed(), T0 + DAY)
    assert done.state.status is LeadStatus.REPLIED


# --- failures, retries, errors ----------------------------------------------------


def test_retryable_failure_reissues_later_then_errors_after_the_budget():
    lead = Lead(EMAILS)
    lead(Start(), T0)
    now = T0
    for _ in range(MAX_RETRIES):
        lead(ActionFailed("e1", Substatus.IDENTITY_LIMITS, retryable=True), now)
        assert (lead.state.status, lead.state.substatus) == (LeadStatus.IN_PROGRESS, Substatus.IDENTITY_LIMITS)
        now += RETRY_WAIT
        lead(Due(), now)
    assert lead.sent == [("e1", n) for n in range(MAX_RETRIES + 1)]
    lead(ActionFailed("e1", Substatus.SYSTEM_ERROR, retryable=True, detail="gateway down"), now)
    assert (lead.state.status, lead.state.substatus) == (LeadStatus.ERROR, Substatus.SYSTEM_ERROR)
    assert lead.state.error_detail == "gateway down"


def test_retryable_failure_honours_the_runtimes_retry_time():
    lead = Lead(EMAILS)
    lead(Start(), T0)
    tomorrow = T0 + DAY
    lead(ActionFailed("e1", Substatus.MONTHLY_CONVERSATION_LIMIT, retryable=True, retry_at=tomorrow), T0)
    assert lead.state.due_at == tomorrow and lead.state.substatus is Substatus.MONTHLY_CONVERSATION_LIMIT


def test_a_failure_for_another_node_or_a_stale_result_changes_nothing():
    lead = Lead(EMAILS)
    lead(Start(), T0)
    before = lead.state
    lead(ActionFailed("e3", Substatus.SYSTEM_ERROR), T0)
    lead(ActionDone("e2", T0), T0)
    assert lead.state == before


def test_retry_reruns_the_failed_node_with_the_next_attempt():
    lead = Lead(EMAILS)
    lead(Start(), T0)
    lead(ActionFailed("e1", Substatus.EMAIL_DISCONNECTED), T0)
    assert lead.state.status is LeadStatus.ERROR
    lead(Due(), T0 + DAY)  # an error never runs by itself
    assert lead.sent == [("e1", 0)]
    lead(Retry(), T0 + DAY)
    assert lead.sent == [("e1", 0), ("e1", 1)]


def test_resuming_a_lead_paused_in_error_keeps_it_in_error_until_a_retry():
    lead = Lead(EMAILS, lead=msgspec.structs.replace(ANN, email=""))
    lead(Start(), T0)
    lead(Paused(), T0)
    lead(Resumed(), T0 + DAY)
    assert (lead.state.status, lead.state.substatus) == (LeadStatus.ERROR, Substatus.MISSING_CONTACT_EMAIL)
    assert lead.jobs == []


def test_missing_variable_names_the_variable():
    seq = Sequence(start="m", nodes=[LinkedInMessage(id="m", chunks=["Hi {first_name}", "about {custom.team}"])])
    lead = Lead(seq)
    lead(Start(), T0)
    assert (lead.state.status, lead.state.substatus) == (LeadStatus.ERROR, Substatus.LEAD_NOT_SCRAPED)
    assert "{custom.team}" in lead.state.error_detail
    assert any("custom.team" in e.what for e in lead.log)


@pytest.mark.parametrize(("node", "substatus"), [
    (ConnectionRequest(id="n", note="{custom.bio}"), Substatus.MESSAGE_TOO_LONG),
    (LinkedInMessage(id="n", chunks=["ok", "{custom.essay}"]), Substatus.MESSAGE_TOO_LONG),
    (InMail(id="n", subject="Hello", body="{custom.essay}"), Substatus.INMAIL_MESSAGE_TOO_LONG),
    (InMail(id="n", subject="{custom.essay}", body="hi"), Substatus.INMAIL_MESSAGE_TOO_LONG),
    (LinkedInAttachment(id="n", text="{custom.essay}", file="deck.pdf"), Substatus.MESSAGE_TOO_LONG),
    (InMail(id="n", subject="", body="hi"), Substatus.MISSING_INMAIL_SUBJECT),
    (InMail(id="n", subject="s", body="{custom.empty|}"), Substatus.MISSING_INMAIL_MESSAGE),
    (LinkedInMessage(id="n", chunks=["{custom.empty|}"]), Substatus.MISSING_LINKEDIN_MESSAGE),
    (Email(id="n", subject="s", body="{custom.empty| }"), Substatus.EMPTY_MESSAGE),
    (Email(id="n", body="no subject and first"), Substatus.MISSING_EMAIL_SUBJECT),
])
def test_content_that_only_breaks_after_personalisation_errors_the_lead(node, substatus):
    lead = LeadFacts(**(msgspec.structs.asdict(ANN) | {"custom": {"bio": "b" * 291 + "{not a var}", "essay": "x" * 1901}}))
    tr = step(Sequence(start="n", nodes=[node]), State(), lead, Start(), T0)
    assert tr.jobs == () and (tr.state.status, tr.state.substatus) == (LeadStatus.ERROR, substatus)


def test_limits_are_inclusive():
    lead = LeadFacts(**(msgspec.structs.asdict(ANN) | {"custom": {"note": "n" * 300, "msg": "m" * 1900}}))
    seq = Sequence(start="a", nodes=[ConnectionRequest(id="a", note="{custom.note}", next="b"),
                                     LinkedInMessage(id="b", chunks=["{custom.msg}"])])
    tr = step(seq, State(), lead, Start(), T0)
    assert tr.jobs[0].payload.note == "n" * 300
    tr = step(seq, tr.state, lead, ActionDone("a", T0), T0)
    assert tr.jobs[0].payload.chunks == ("m" * 1900,)


def test_linkedin_steps_need_a_profile_and_email_steps_an_address():
    no_li = msgspec.structs.replace(ANN, linkedin_id="", linkedin_url="")
    tr = step(Sequence(start="v", nodes=[VisitProfile(id="v")]), State(), no_li, Start(), T0)
    assert tr.state.substatus is Substatus.LINKEDIN_URL_NOT_FOUND
    tr = step(EMAILS, State(), msgspec.structs.replace(ANN, email=""), Start(), T0)
    assert tr.state.substatus is Substatus.MISSING_CONTACT_EMAIL and tr.state.error_detail


# --- jobs -------------------------------------------------------------------------


def test_jobs_carry_channel_bucket_payload_attempt_and_depth():
    seq = Sequence(start="m1", nodes=[
        LinkedInMessage(id="m1", chunks=["Hi {first name}", "  ", "second"], next="v"),
        VoiceMessage(id="v", file="hello.ogg", next="e"),
        Email(id="e", subject="Re: {company}", body="b", html="<p>{first_name}</p>", next="e2"),
        Email(id="e2", body="again"),
    ])
    lead = Lead(seq)
    lead(Start(), T0)
    for node in ("m1", "v", "e"):
        lead(ActionDone(node, T0), T0)
    m1, v, e, e2 = lead.jobs
    assert (m1.channel, m1.bucket, m1.payload.chunks, m1.counts_as_message, m1.depth) == (
        "linkedin", "message", ("Hi Ann", "second"), True, 0)
    assert (v.bucket, v.payload.file, v.depth) == ("message", "hello.ogg", 1)
    assert (e.channel, e.payload.subject, e.payload.html, e.payload.thread, e.depth) == ("email", "Re: Acme", "<p>Ann</p>", False, 2)
    assert (e2.payload.thread, e2.payload.subject, e2.depth) == (True, "", 2)  # emails do not add depth


def test_skip_prior_conversations_skips_linkedin_messages_only_when_asked():
    seq = Sequence(start="m", nodes=[LinkedInMessage(id="m", chunks=["hi"], next="t"), Task(id="t", title="Call")])
    talked = msgspec.structs.replace(ANN, prior_conversation=True)
    assert [j.node for j in step(seq, State(), talked, Start(), T0).jobs] == ["m"]
    tr = step(seq, State(), talked, Start(), T0, skip_prior_conversations=True)
    assert [j.node for j in tr.jobs] == ["t"] and any("skipped" in e.what for e in tr.log)


def test_likings_opt_out_skips_post_reactions_only():
    seq = Sequence(start="r", nodes=[ReactToPost(id="r", next="v"), VisitProfile(id="v")])
    assert [j.node for j in step(seq, State(), ANN, Start(), T0).jobs] == ["r"]
    tr = step(seq, State(), ANN, Start(), T0, skip_reactions=True)
    assert [j.node for j in tr.jobs] == ["v"]
    assert [e.what for e in tr.log if e.node == "r"] == ["skipped: the identity opted out of likings"]


def test_paused_lead_gets_no_job_and_a_job_result_while_paused_waits_for_resume():
    lead = Lead(EMAILS)
    lead(Start(), T0)
    lead(Paused(), T0)
    lead(ActionDone("e1", T0), T0)
    lead(Due(), T0 + 3 * DAY)
    assert lead.sent == [("e1", 0)] and lead.state.status is LeadStatus.PAUSED
    lead(Resumed(), T0 + 4 * DAY)
    assert lead.sent == [("e1", 0), ("e2", 0)]


def test_paused_before_start_resumes_to_not_started():
    lead = Lead(EMAILS)
    lead(Paused(), T0)
    lead(Start(), T0)
    assert lead.jobs == [] and lead.state.status is LeadStatus.PAUSED
    lead(Resumed(), T0)
    assert lead.state.status is LeadStatus.NOT_STARTED
    lead(Start(), T0)
    assert lead.sent == [("e1", 0)]


def test_an_empty_sequence_finishes_at_once():
    tr = step(Sequence(start=None, nodes=[]), State(), ANN, Start(), T0)
    assert (tr.state.status, tr.state.substatus, tr.jobs) == (LeadStatus.FINISHED, Substatus.NO_RESPONSE, ())


def test_a_sequence_is_compiled_once_and_state_round_trips_through_json():
    assert compiled_for(EMAILS) is compiled_for(EMAILS)
    assert step(compile_sequence(EMAILS), State(), ANN, Start(), T0) == step(EMAILS, State(), ANN, Start(), T0)
    lead = Lead(INVITE)
    lead(Start(), T0)
    lead(ActionDone("inv", T0), T0)
    encoded = msgspec.json.encode(lead.state)
    assert msgspec.json.decode(encoded, type=State) == lead.state
