"""Review findings on the step function, rendering and compilation, one test each.

Each test pins a rule the reviewer found broken (see the docstrings); the
fixtures are the smallest sequences that show it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from sequences.step import ActionDone, ActionFailed, Due, LeadFacts, Paused, Resumed, Retry, Start, State, compile_sequence, step
from sequences.model import (
    AcceptedConnection, ConnectionRequest, Delay, Email, HasProfessionalEmail, IsConnection, LinkedInMessage,
    Sequence, Task, VoiceMessage,
)
from sequences.render import LeadData, MissingVariable, render, variables_in
from sequences.statuses import LeadStatus, Substatus
from sequences.validate import validate

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
ANN = LeadFacts(first_name="Ann", company="Acme", email="ann@acme.test", linkedin_id="A1", linkedin_url="u")


# --- 1. braces that are not variables are text --------------------------------


def test_css_in_an_html_email_is_text_not_a_variable():
    html = "<style>p { color: red } .x{margin:0}</style><p>Hi {first_name}</p>"
    seq = Sequence(start="e", nodes=[Email(id="e", subject="Hi", body="x", html=html)])
    assert validate(seq) == []
    assert variables_in(html) == ["first_name"]
    tr = step(seq, State(), ANN, Start(), T0)
    assert tr.state.status is LeadStatus.IN_PROGRESS
    assert tr.jobs[0].payload.html == "<style>p { color: red } .x{margin:0}</style><p>Hi Ann</p>"


def test_literal_braces_render_as_text_and_variable_forms_still_work():
    lead = LeadData(first_name="A", company="Acme", custom={"Team Size": "12", "deal_size": "5"})
    assert render("Hi {first_name} :-{} {a: b} {", lead) == "Hi A :-{} {a: b} {"
    assert render("{first name} {Company} { first_name } {custom.Team Size} {custom.deal_size|0} {x-y|z}", lead) == \
        "A Acme A 12 5 z"
    assert render("{job_title|there} {{first_name}}", lead) == "there {first_name}"
    assert isinstance(render("{job_title}", lead), MissingVariable)
    assert variables_in("{first name} {custom.Team Size|n} {} {a:b} {1x}") == ["first name", "custom.Team Size", "1x"]


# --- 2. queue depth counts LinkedIn messages only ------------------------------


def test_job_depth_counts_prior_linkedin_messages_only():
    seq = Sequence(start="e", nodes=[
        Email(id="e", subject="S", body="b", next="m"),
        LinkedInMessage(id="m", chunks=["hi"], next="v"),
        VoiceMessage(id="v", file="f.ogg", next="e2"),
        Email(id="e2", body="again", next="m2"),
        LinkedInMessage(id="m2", chunks=["last"]),
    ])
    c = compile_sequence(seq)
    tr = step(c, State(), ANN, Start(), T0)
    depths = []
    while tr.jobs:
        depths.append((tr.jobs[0].node, tr.jobs[0].depth))
        tr = step(c, tr.state, ANN, ActionDone(tr.jobs[0].node, T0), T0)
    assert depths == [("e", 0), ("m", 0), ("v", 1), ("e2", 2), ("m2", 2)]
    assert tr.state.message_depth == 3


# --- 3. a permanent failure is always an Error substatus -----------------------


@pytest.mark.parametrize("sub", [Substatus.SCHEDULED, Substatus.NO_RESPONSE, Substatus.IDENTITY_LIMITS])
def test_permanent_failure_with_a_non_error_substatus_is_a_system_error(sub):
    seq = Sequence(start="e", nodes=[Email(id="e", subject="S", body="b")])
    st = step(seq, State(), ANN, Start(), T0).state
    tr = step(seq, st, ANN, ActionFailed("e", sub, detail="boom"), T0)
    assert (tr.state.status, tr.state.substatus) == (LeadStatus.ERROR, Substatus.SYSTEM_ERROR)
    assert "boom" in tr.state.error_detail
    # a real error substatus is kept as given
    tr = step(seq, st, ANN, ActionFailed("e", Substatus.MISSING_CONTACT_EMAIL), T0)
    assert tr.state.substatus is Substatus.MISSING_CONTACT_EMAIL


# --- 4. Paused shows no substatus ----------------------------------------------


def test_a_paused_lead_shows_no_substatus_and_gets_it_back_on_resume():
    seq = Sequence(start="e", nodes=[Email(id="e", subject="S", body="b", delay=Delay(days=2), next="e2"),
                                     Email(id="e2", body="b2", delay=Delay(days=2))])
    st = step(seq, State(), ANN, Start(), T0).state
    assert st.substatus is Substatus.SCHEDULED
    st = step(seq, st, ANN, Paused(), T0).state
    assert (st.status, st.substatus) == (LeadStatus.PAUSED, None)
    st = step(seq, st, ANN, Due(), T0 + 3 * DAY).state  # nothing runs while paused
    assert (st.status, st.substatus) == (LeadStatus.PAUSED, None)
    tr = step(seq, st, ANN, Resumed(), T0 + DAY)
    assert (tr.state.status, tr.state.substatus, tr.jobs) == (LeadStatus.IN_PROGRESS, Substatus.SCHEDULED, ())
    # a job finishing while paused: the next node is scheduled, still shown without a substatus
    st = step(seq, step(seq, tr.state, ANN, Due(), T0 + 2 * DAY).state, ANN, Paused(), T0 + 2 * DAY).state
    st = step(seq, st, ANN, ActionDone("e", T0 + 2 * DAY), T0 + 2 * DAY).state
    assert (st.status, st.substatus) == (LeadStatus.PAUSED, None)
    assert msgspec.json.decode(msgspec.json.encode(st), type=State) == st


def test_a_lead_paused_in_error_shows_no_substatus_and_is_back_in_error_on_resume():
    seq = Sequence(start="e", nodes=[Email(id="e", subject="S", body="b")])
    st = step(seq, State(), ANN, Start(), T0).state
    st = step(seq, st, ANN, ActionFailed("e", Substatus.EMAIL_DISCONNECTED), T0).state
    st = step(seq, st, ANN, Paused(), T0).state
    assert (st.status, st.substatus) == (LeadStatus.PAUSED, None)
    st = step(seq, st, ANN, Resumed(), T0).state
    assert (st.status, st.substatus) == (LeadStatus.ERROR, Substatus.EMAIL_DISCONNECTED)
    assert step(seq, st, ANN, Retry(), T0).jobs


# --- 5. no invitation to a 1st-degree connection -------------------------------


def test_a_connection_request_to_a_connected_lead_is_skipped_and_logged():
    seq = Sequence(start="c", nodes=[
        ConnectionRequest(id="c", note="Hi {first_name}", next="a"),
        AcceptedConnection(id="a", within_days=7, yes="m", no="t"),
        LinkedInMessage(id="m", chunks=["Thanks"]),
        Task(id="t", title="call"),
    ])
    connected = msgspec.structs.replace(ANN, is_connection=True)
    tr = step(seq, State(), connected, Start(), T0)
    assert [j.node for j in tr.jobs] == ["m"]
    assert any(e.node == "c" and "already connected" in e.what for e in tr.log)
    # not connected: the invitation goes out as before
    assert [j.node for j in step(seq, State(), ANN, Start(), T0).jobs] == ["c"]


# --- 6. a broken tree is refused at compile time -------------------------------


@pytest.mark.parametrize("seq, names", [
    (Sequence(start="e", nodes=[Email(id="e", subject="S", body="b", next="missing")]), ["missing", "e"]),
    (Sequence(start="nowhere", nodes=[Email(id="e", subject="S", body="b")]), ["nowhere"]),
    (Sequence(start="i", nodes=[IsConnection(id="i", yes="h", no=None), HasProfessionalEmail(id="h", yes="gone")]),
     ["gone", "h"]),
    (Sequence(start="a", nodes=[Email(id="a", subject="S", body="b", next="b"), Email(id="b", body="b", next="a")]),
     ["a"]),
    (Sequence(start="a", nodes=[Email(id="a", subject="S", body="b"), Email(id="a", subject="S", body="c")]), ["a"]),
])
def test_compile_refuses_a_broken_tree_naming_the_step(seq, names):
    with pytest.raises(ValueError) as info:
        compile_sequence(seq)
    for name in names:
        assert repr(name) in str(info.value) or name in str(info.value)
    with pytest.raises(ValueError):
        step(seq, State(), ANN, Start(), T0)


def test_compile_accepts_the_empty_sequence_and_unreachable_steps():
    compile_sequence(Sequence(start=None, nodes=[]))
    compile_sequence(Sequence(start="a", nodes=[Email(id="a", subject="S", body="b"), Email(id="z", body="b")]))


# --- 7. an invalid contact email is a missing one ------------------------------


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@c.io", "a@@c.io", "@c.io", "a@c.", "a@.io", " "])
def test_an_invalid_contact_email_is_missing_contact_email(email):
    seq = Sequence(start="e", nodes=[Email(id="e", subject="S", body="b")])
    lead = msgspec.structs.replace(ANN, email=email)
    tr = step(seq, State(), lead, Start(), T0)
    assert tr.jobs == ()
    assert (tr.state.status, tr.state.substatus) == (LeadStatus.ERROR, Substatus.MISSING_CONTACT_EMAIL)


def test_a_valid_contact_email_is_sent_to_and_counts_for_has_professional_email():
    seq = Sequence(start="h", nodes=[HasProfessionalEmail(id="h", yes="e", no="t"),
                                     Email(id="e", subject="S", body="b"), Task(id="t", title="call")])
    for email in ("ann@acme.test", " o'neil+x@sub.acme.co.uk "):
        assert [j.node for j in step(seq, State(), msgspec.structs.replace(ANN, email=email), Start(), T0).jobs] == ["e"]
    assert [j.node for j in step(seq, State(), msgspec.structs.replace(ANN, email="nope"), Start(), T0).jobs] == ["t"]
