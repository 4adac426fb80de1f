"""The sequence model, validation, rendering, templates and the step function's rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sequences.model import from_json, sequence_schema, to_json
from sequences.templates import BUILTIN_TEMPLATES, find_template
from sequences.validate import node_errors, validate
from sequences.model import (
    AcceptedConnection, ConnectionRequest, CustomCondition, Delay, Email, HasProfessionalEmail,
    InMail, IsConnection, LinkedInMessage, Sequence, Task, VisitProfile,
)
from sequences.render import LeadData, MissingVariable, chunk_message, render, render_pieces
from sequences.statuses import SPEC_SUBSTATUSES, SUBSTATUS_TEXT, LeadStatus, Substatus
from sequences.step import (
    Accepted, ActionDone, ActionFailed, Blocked, Bounced, Due, InvitationWithdrawn, LeadFacts,
    OutOfOffice, Paused, Removed, Replied, Resumed, Retry, Start, State, compile_sequence, step,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ANN = LeadFacts(first_name="Ann", last_name="Lee", company="Acme", email="ann@acme.test",
                linkedin_id="ACoAA1", linkedin_url="https://www.linkedin.com/in/ann/")


def run(seq, events, lead=ANN):
    """Feed (event, at) pairs; return the last state and every job emitted."""
    compiled = compile_sequence(seq)
    state, jobs = State(), []
    for event, at in events:
        tr = step(compiled, state, lead, event, at)
        state = tr.state
        jobs.extend(tr.jobs)
    return state, jobs


# --- model -------------------------------------------------------------------


@pytest.mark.parametrize("template", BUILTIN_TEMPLATES, ids=lambda t: t.slug)
def test_every_builtin_template_is_valid_and_round_trips(template):
    assert validate(template.sequence) == []
    assert from_json(to_json(template.sequence)) == template.sequence


def test_the_spec_tables_seven_templates_plus_the_conditional_example_found_by_name_or_slug():
    from sequences.templates import SPEC_TEMPLATE_NAMES

    assert [t.name for t in BUILTIN_TEMPLATES] == [*SPEC_TEMPLATE_NAMES, "Conditional multichannel"]
    assert len(SPEC_TEMPLATE_NAMES) == 7
    assert find_template("EMAIL ONLY").name == "Email Only"
    assert find_template("linkedin-email-call").name == "LinkedIn + Email + Call"
    assert find_template("nothing like it") is None


def test_schema_names_every_node_kind():
    schema = msgspec.json.encode(sequence_schema()).decode()
    for kind in ("visit_profile", "react_to_post", "connection_request", "linkedin_message", "inmail",
                 "linkedin_attachment", "voice_message", "email", "task", "add_to_campaign",
                 "accepted_connection", "is_connection", "has_been_contacted", "has_linkedin_profile",
                 "has_professional_email", "has_mobile_phone", "custom"):
        assert f'"{kind}"' in schema


def test_unknown_fields_in_sequence_json_are_refused_with_the_path():
    with pytest.raises(msgspec.ValidationError, match=r"nodes\[0\]"):
        from_json('{"start": "a", "nodes": [{"kind": "email", "id": "a", "subjekt": "x"}]}')


# --- validation --------------------------------------------------------------


def errors_of(seq):
    return [(e.node, e.substatus) for e in validate(seq)]


def test_validation_names_the_step_and_the_spec_substatus():
    seq = Sequence(start="e1", nodes=[
        Email(id="e1", subject="", body="hi", next="m1"),
        LinkedInMessage(id="m1", chunks=["x" * 1901], next="i1"),
        InMail(id="i1", subject="", body=""),
    ])
    found = errors_of(seq)
    assert ("e1", Substatus.MISSING_EMAIL_SUBJECT) in found
    assert ("m1", Substatus.MESSAGE_TOO_LONG) in found
    assert ("i1", Substatus.MISSING_INMAIL_SUBJECT) in found
    assert ("i1", Substatus.MISSING_INMAIL_MESSAGE) in found
    assert "step e1 (Email)" in validate(seq)[0].message


def test_validation_finds_cycles_joins_dangling_and_unreachable_steps():
    loop = Sequence(start="a", nodes=[VisitProfile(id="a", next="b"), VisitProfile(id="b", next="a")])
    assert any("reached twice" in e.message for e in validate(loop))
    dangling = Sequence(start="a", nodes=[VisitProfile(id="a", next="zz")])
    assert any("'zz'" in e.message for e in validate(dangling))
    orphan = Sequence(start="a", nodes=[VisitProfile(id="a"), VisitProfile(id="b")])
    assert any("cannot be reached" in e.message for e in validate(orphan))
    assert validate(Sequence()) and validate(Sequence(start="x", nodes=[VisitProfile(id="a")]))


def test_note_over_300_and_unknown_variables_are_refused():
    seq = Sequence(start="c", nodes=[ConnectionRequest(id="c", note="n" * 301, next="e"),
                                     Email(id="e", subject="Hi {frist_name}", body="x")])
    messages = " ".join(e.message for e in validate(seq))
    assert "301 characters" in messages and "{frist_name}" in messages


def test_follow_up_email_without_subject_is_a_thread_reply_not_an_error():
    seq = Sequence(start="e1", nodes=[Email(id="e1", subject="Hello", body="a", next="e2"), Email(id="e2", body="b")])
    assert validate(seq) == []


# --- rendering ---------------------------------------------------------------


def test_render_fills_fields_custom_fields_and_fallbacks():
    lead = LeadData(first_name="Zoë", company="", custom={"city": "Lyon"})
    assert render("Hi {first_name}, {custom.city} {company|your team} {{x}}", lead) == "Hi Zoë, Lyon your team {x}"


def test_render_reports_a_missing_value_instead_of_sending_a_hole():
    result = render("Hi {first_name}", LeadData())
    assert isinstance(result, MissingVariable) and result.variable == "first_name"
    assert "{first_name}" in result.reason


def test_markup_in_lead_data_is_just_text_here():
    evil = LeadData(first_name="[bold red]X[/]\x1b[2J")
    assert render("{first_name}", evil) == "[bold red]X[/]\x1b[2J"


def test_chunking_keeps_every_word_and_respects_the_limit():
    text = "First paragraph.\n\n" + " ".join(["word"] * 900)
    chunks = chunk_message(text, limit=200)
    assert all(len(c) <= 200 for c in chunks)
    assert " ".join(chunks).split() == text.split()


def test_substatus_vocabulary_is_the_spec_table():
    assert len(SUBSTATUS_TEXT) == len(Substatus) == 38
    enginys = {Substatus.QUEUED, Substatus.DELIVERY_DELAYED, Substatus.GENERATING_AI, Substatus.AI_ERROR}
    assert len(SPEC_SUBSTATUSES) == 34 and not enginys & SPEC_SUBSTATUSES  # plus enginy's four
    assert Substatus.OUT_OF_OFFICE.label == "Out of office"
    assert Substatus.OUT_OF_OFFICE.status is LeadStatus.FINISHED
    assert Substatus.WAITING_TO_CONNECT.status is LeadStatus.IN_PROGRESS


# --- the step function -------------------------------------------------------

EMAILS = Sequence(start="e1", nodes=[
    Email(id="e1", subject="Hi {first_name}", body="one", next="e2"),
    Email(id="e2", body="two", delay=Delay(days=3), next="e3"),
    Email(id="e3", body="three", delay=Delay(days=4)),
])


def test_delay_counts_from_when_the_queued_action_completed():
    late = T0 + timedelta(days=2)  # e1 waited two days in the queue
    state, jobs = run(EMAILS, [(Start(), T0), (ActionDone("e1", late), late), (Due(), late + timedelta(days=2, hours=23))])
    assert [j.node for j in jobs] == ["e1"]
    assert state.due_at == late + timedelta(days=3) and state.substatus is Substatus.SCHEDULED
    state, jobs = run(EMAILS, [(Start(), T0), (ActionDone("e1", late), late), (Due(), late + timedelta(days=3))])
    assert [j.node for j in jobs] == ["e1", "e2"]
    assert jobs[1].payload.thread and jobs[0].payload.subject == "Hi Ann"


def test_whole_sequence_finishes_with_no_response():
    t1, t2, t3 = T0, T0 + timedelta(days=3), T0 + timedelta(days=7)
    state, jobs = run(EMAILS, [(Start(), t1), (ActionDone("e1", t1), t1), (Due(), t2), (ActionDone("e2", t2), t2),
                               (Due(), t3), (ActionDone("e3", t3), t3)])
    assert len(jobs) == 3 and state.status is LeadStatus.FINISHED and state.substatus is Substatus.NO_RESPONSE
    assert state.message_depth == 0  # depth counts LinkedIn messages only (the LinkedIn queue's order)


def test_reply_stops_the_lead_and_no_later_job_is_emitted():
    state, jobs = run(EMAILS, [(Start(), T0), (ActionDone("e1", T0), T0), (Replied(), T0 + timedelta(days=1)),
                               (Due(), T0 + timedelta(days=30))])
    assert state.status is LeadStatus.REPLIED and [j.node for j in jobs] == ["e1"]


@pytest.mark.parametrize(("event", "substatus"), [
    (Bounced(hard=True), Substatus.BOUNCED), (OutOfOffice(), Substatus.OUT_OF_OFFICE),
    (Removed(), Substatus.DELETED), (Blocked(), Substatus.BLOCKED),
])
def test_final_events_end_the_lead(event, substatus):
    state, jobs = run(EMAILS, [(Start(), T0), (ActionDone("e1", T0), T0), (event, T0), (Due(), T0 + timedelta(days=9))])
    assert state.status is LeadStatus.FINISHED and state.substatus is substatus and len(jobs) == 1


def test_soft_bounce_resends_the_same_email_then_gives_up():
    day = timedelta(days=1)
    events = [(Start(), T0), (ActionDone("e1", T0), T0), (Bounced(hard=False), T0), (Due(), T0 + day)]
    state, jobs = run(EMAILS, events)
    assert [(j.node, j.attempt) for j in jobs] == [("e1", 0), ("e1", 1)]
    events += [(ActionDone("e1", T0 + day), T0 + day), (Bounced(hard=False), T0 + day), (Due(), T0 + 2 * day),
               (ActionDone("e1", T0 + 2 * day), T0 + 2 * day), (Bounced(hard=False), T0 + 2 * day)]
    state, jobs = run(EMAILS, events)
    assert state.substatus is Substatus.BOUNCED and len(jobs) == 3


def test_removed_is_permanent_even_if_a_reply_arrives_later():
    state, _ = run(EMAILS, [(Start(), T0), (Removed(), T0), (Replied(), T0), (Resumed(), T0), (Retry(), T0)])
    assert state.substatus is Substatus.DELETED


LINKEDIN = Sequence(start="inv", nodes=[
    ConnectionRequest(id="inv", note="Hi {first_name}", next="acc"),
    AcceptedConnection(id="acc", within_days=7, yes="msg", no=None),
    LinkedInMessage(id="msg", chunks=["Thanks {first_name}", "more"], delay=Delay(days=1)),
])


def test_acceptance_takes_the_yes_branch_and_deepens_the_conversation():
    t = T0 + timedelta(days=2)
    state, jobs = run(LINKEDIN, [(Start(), T0), (ActionDone("inv", T0), T0), (Accepted(t), t), (Due(), t + timedelta(days=1))])
    assert [j.node for j in jobs] == ["inv", "msg"] and jobs[1].payload.chunks == ("Thanks Ann", "more")
    assert jobs[0].bucket == "connection_request" and jobs[1].counts_as_message


def test_no_acceptance_within_x_days_takes_the_no_branch():
    state, _ = run(LINKEDIN, [(Start(), T0), (ActionDone("inv", T0), T0), (Due(), T0 + timedelta(days=6))])
    assert state.substatus is Substatus.WAITING_TO_CONNECT
    state, jobs = run(LINKEDIN, [(Start(), T0), (ActionDone("inv", T0), T0), (Due(), T0 + timedelta(days=7))])
    assert state.substatus is Substatus.NOT_CONNECTED and len(jobs) == 1


def test_withdrawn_invitation_is_resent_after_three_weeks_once():
    w = T0 + timedelta(days=5)
    events = [(Start(), T0), (ActionDone("inv", T0), T0), (InvitationWithdrawn(), w), (Due(), w + timedelta(days=20))]
    state, jobs = run(LINKEDIN, events)
    assert state.substatus is Substatus.CONNECTION_WITHDRAWN and len(jobs) == 1
    events.append((Due(), w + timedelta(days=21)))
    state, jobs = run(LINKEDIN, events)
    assert [(j.node, j.attempt) for j in jobs] == [("inv", 0), ("inv", 1)]
    again = w + timedelta(days=22)
    state, _ = run(LINKEDIN, events + [(ActionDone("inv", again), again), (InvitationWithdrawn(), again)])
    assert state.substatus is Substatus.NOT_CONNECTED


def test_conditions_resolve_at_once_and_branch():
    seq = Sequence(start="c", nodes=[
        IsConnection(id="c", yes="m", no="e"),
        LinkedInMessage(id="m", chunks=["hi"]),
        HasProfessionalEmail(id="e", yes="mail", no="t"),
        Email(id="mail", subject="s", body="b"),
        Task(id="t", title="Call"),
    ])
    _, jobs = run(seq, [(Start(), T0)], lead=msgspec.structs.replace(ANN, is_connection=True))
    assert [j.node for j in jobs] == ["m"]
    _, jobs = run(seq, [(Start(), T0)])
    assert [j.node for j in jobs] == ["mail"]
    _, jobs = run(seq, [(Start(), T0)], lead=msgspec.structs.replace(ANN, email=""))
    assert [(j.node, j.channel) for j in jobs] == [("t", "task")]


def test_custom_condition_operators():
    seq = Sequence(start="c", nodes=[CustomCondition(id="c", field="seniority", operator="greater_than", value="3", yes="y"),
                                     Task(id="y", title="t")])
    _, jobs = run(seq, [(Start(), T0)], lead=msgspec.structs.replace(ANN, custom={"seniority": "5"}))
    assert jobs
    state, jobs = run(seq, [(Start(), T0)], lead=msgspec.structs.replace(ANN, custom={"seniority": "n/a"}))
    assert not jobs and state.substatus is Substatus.NO_RESPONSE


def test_missing_data_is_a_lead_error_and_retry_runs_the_step_again():
    no_email = msgspec.structs.replace(ANN, email="")
    state, jobs = run(EMAILS, [(Start(), T0)], lead=no_email)
    assert state.status is LeadStatus.ERROR and state.substatus is Substatus.MISSING_CONTACT_EMAIL and not jobs
    state, jobs = run(EMAILS, [(Start(), T0), (Retry(), T0)], lead=ANN)
    assert [j.node for j in jobs] == ["e1"]  # the same lead once the data is there
    nameless = msgspec.structs.replace(ANN, first_name="")
    state, _ = run(EMAILS, [(Start(), T0)], lead=nameless)
    assert state.substatus is Substatus.LEAD_NOT_SCRAPED


def test_channel_failure_errors_the_lead_and_retry_reissues_with_a_new_attempt():
    state, jobs = run(EMAILS, [(Start(), T0), (ActionFailed("e1", Substatus.EMAIL_DISCONNECTED), T0), (Retry(), T0)])
    assert [(j.node, j.attempt) for j in jobs] == [("e1", 0), ("e1", 1)]


def test_pause_holds_everything_and_resume_reissues_a_dropped_job_with_the_same_key():
    day = timedelta(days=1)
    state, jobs = run(EMAILS, [(Start(), T0), (Paused(), T0), (Due(), T0 + day)])
    assert state.status is LeadStatus.PAUSED and len(jobs) == 1
    state, jobs = run(EMAILS, [(Start(), T0), (Paused(), T0), (Resumed(), T0 + day)])
    assert [(j.node, j.attempt) for j in jobs] == [("e1", 0), ("e1", 0)]
    state, jobs = run(EMAILS, [(Start(), T0), (Paused(), T0), (ActionDone("e1", T0), T0), (Due(), T0 + 5 * day)])
    assert state.status is LeadStatus.PAUSED and len(jobs) == 1
    state, jobs = run(EMAILS, [(Start(), T0), (Paused(), T0), (ActionDone("e1", T0), T0), (Resumed(), T0 + 5 * day)])
    assert [j.node for j in jobs] == ["e1", "e2"]


# --- properties over generated sequences and event streams -------------------

ACTIONS = [
    lambda i: VisitProfile(id=i), lambda i: ConnectionRequest(id=i, note="hi"),
    lambda i: LinkedInMessage(id=i, chunks=["m"]), lambda i: Email(id=i, subject="s", body="b"),
    lambda i: Task(id=i, title="t"),
]
CONDITIONS = [
    lambda i, y, n: IsConnection(id=i, yes=y, no=n),
    lambda i, y, n: HasProfessionalEmail(id=i, yes=y, no=n),
    lambda i, y, n: AcceptedConnection(id=i, within_days=3, yes=y, no=n),
]


@st.composite
def sequences(draw, depth=0, counter=None):
    counter = counter if counter is not None else [0]
    nodes = []

    def build(d):
        counter[0] += 1
        node_id = f"n{counter[0]}"
        delay = Delay(days=draw(st.integers(0, 3)))
        if d < 3 and draw(st.booleans()):
            yes = build(d + 1) if draw(st.booleans()) else None
            no = build(d + 1) if draw(st.booleans()) else None
            node = draw(st.sampled_from(CONDITIONS))(node_id, yes, no)
        else:
            nxt = build(d + 1) if d < 4 and draw(st.booleans()) else None
            node = msgspec.structs.replace(draw(st.sampled_from(ACTIONS))(node_id), next=nxt)
        nodes.append(msgspec.structs.replace(node, delay=delay))
        return node_id

    start = build(0)
    return Sequence(start=start, nodes=nodes)


OTHER_EVENTS = st.sampled_from([Due(), Accepted(T0), Paused(), Resumed(), Retry(), InvitationWithdrawn(),
                                Bounced(hard=False)])
FINAL = {Replied(): LeadStatus.REPLIED, Bounced(hard=True): Substatus.BOUNCED,
         OutOfOffice(): Substatus.OUT_OF_OFFICE, Removed(): Substatus.DELETED}


def drive(seq, lead, script, final=None, final_at=None):
    """Run a random script where each queued job completes; return states and jobs after `final`."""
    compiled = compile_sequence(seq)
    now, after_final = T0, []
    tr = step(compiled, State(), lead, Start(), T0)
    state, pending = tr.state, list(tr.jobs)
    for i, event in enumerate(script):
        now += timedelta(hours=7)
        if i == final_at and final is not None:
            event = final
        if pending and not isinstance(event, (Paused,)):
            job = pending.pop(0)
            tr = step(compiled, state, lead, ActionDone(job.node, now), now)
            state = tr.state
            pending.extend(tr.jobs)
            if i > (final_at if final_at is not None else 10**9):
                after_final.extend(tr.jobs)
        tr = step(compiled, state, lead, event, now)
        state = tr.state
        pending.extend(tr.jobs)
        if final_at is not None and i >= final_at:
            after_final.extend(tr.jobs)
    return state, after_final


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seq=sequences(), script=st.lists(OTHER_EVENTS, min_size=0, max_size=40),
       final=st.sampled_from(list(FINAL)), final_at=st.integers(0, 39))
def test_a_final_event_at_any_point_ends_the_lead_and_nothing_follows(seq, script, final, final_at):
    script = script + [Due()] * (final_at + 1 - len(script)) if len(script) <= final_at else script
    state, after = drive(seq, ANN, script + [Due()] * 5, final, final_at)
    assert after == []
    expected = FINAL[final]
    if expected is LeadStatus.REPLIED:
        assert state.status is LeadStatus.REPLIED or state.substatus in (Substatus.DELETED,)
    else:
        assert state.status in (LeadStatus.FINISHED, LeadStatus.REPLIED)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seq=sequences(), accept=st.booleans())
def test_every_path_terminates(seq, accept):
    """Completing every job and letting time pass always reaches Finished, in bounded steps."""
    compiled = compile_sequence(seq)
    tr = step(compiled, State(), ANN, Start(), T0)
    state, pending, now = tr.state, list(tr.jobs), T0
    for _ in range(10 * len(seq.nodes) + 10):
        if state.status is LeadStatus.FINISHED:
            break
        now += timedelta(days=1)
        event = ActionDone(pending.pop(0).node, now) if pending else (Accepted(now) if accept else Due())
        tr = step(compiled, state, ANN, event, now)
        state = tr.state
        pending.extend(tr.jobs)
    assert state.status is LeadStatus.FINISHED
    assert len(state.history) <= len(seq.nodes)


def test_render_pieces_marks_every_missing_variable_where_it_stands() -> None:
    lead = LeadData(first_name="Ada", custom={"team": ""})
    pieces = render_pieces("Hi {First Name|you}, {company}! {custom.team|your team} {title}", lead)
    assert "".join(text for text, _ in pieces) == "Hi Ada, {company}! your team {job_title}"
    assert [name for _, name in pieces if name] == ["company", "job_title"]
    # the same text rendered for sending stops at the first of them
    assert render("Hi {First Name|you}, {company}!", lead) == MissingVariable("company")


def test_node_errors_are_the_steps_own_problems() -> None:
    from sequences.model import Email, InMail

    assert [e.short for e in node_errors(InMail(id="i", body="{nope}"))] == ["missing subject", "unknown variable {nope}"]
    assert node_errors(Email(id="e", body="hi")) == []  # a follow-up may reply in the thread
    assert [e.short for e in node_errors(Email(id="e", body="hi"), first_email=True)] == ["missing subject"]
