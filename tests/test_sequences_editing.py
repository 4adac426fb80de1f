"""The sequence tree editor's pure core: each command, its refusals, undo/redo, the lock, the rows."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sequences.editing import (
    COMMANDS, Copy, Cut, Delete, DeleteSubtree, EditError, EditorState, Insert, MoveDown, MoveUp, Paste,
    SetDelay, SetParams, decode_command, rows,
)
from sequences.lock import HINT
from sequences.model import (
    AcceptedConnection, ConnectionRequest, Delay, Email, HasLinkedInProfile, HasMobilePhone, HasProfessionalEmail,
    InMail, IsConnection, LinkedInMessage, ReactToPost, Sequence, Task, VisitProfile, children, kind_of,
)
from sequences.templates import BUILTIN_TEMPLATES, find_template
from sequences.validate import validate


def assert_tree(seq: Sequence) -> None:
    """The invariant of every editor state: ids unique, every pointer resolves, each step reached once."""
    by_id = {n.id: n for n in seq.nodes}
    assert len(by_id) == len(seq.nodes)
    if not seq.nodes:
        assert seq.start is None
        return
    seen: list[str] = []
    stack = [seq.start]
    while stack:
        node_id = stack.pop()
        if node_id is None:
            continue
        assert node_id in by_id and node_id not in seen
        seen.append(node_id)
        stack.extend(children(by_id[node_id]))
    assert sorted(seen) == sorted(by_id)


def chain(*nodes) -> Sequence:
    linked = [msgspec.structs.replace(n, next=nodes[i + 1].id) if i + 1 < len(nodes) else n for i, n in enumerate(nodes)]
    return Sequence(start=linked[0].id, nodes=linked)


def order(seq: Sequence) -> list[str]:
    """The ids along the `next` pointers from the start."""
    by_id, out, current = {n.id: n for n in seq.nodes}, [], seq.start
    while current is not None:
        out.append(current)
        current = getattr(by_id[current], "next", None)
    return out


def node(seq: Sequence, node_id: str):
    return next(n for n in seq.nodes if n.id == node_id)


def refused(state: EditorState, command) -> str:
    with pytest.raises(EditError) as info:
        state.apply(command)
    return str(info.value)


LINE = chain(VisitProfile(id="a"), ConnectionRequest(id="b"), LinkedInMessage(id="c", chunks=["hi"]))
#: a → cond(yes: y1 → y2, no: x1)
BRANCHY = Sequence(start="a", nodes=[
    VisitProfile(id="a", next="cond"),
    IsConnection(id="cond", yes="y1", no="x1"),
    LinkedInMessage(id="y1", chunks=["hi"], next="y2"),
    Email(id="y2", subject="s", body="b"),
    ConnectionRequest(id="x1"),
])


# --- insert ---------------------------------------------------------------------------


def test_insert_into_an_empty_sequence_then_before_and_after_with_fresh_ids():
    state = EditorState.open(Sequence()).apply(Insert(kind="visit_profile"))
    assert state.sequence == Sequence(start="n1", nodes=[VisitProfile(id="n1")])
    assert state.focus == "n1"
    state = state.apply(Insert(kind="email", anchor="n1", where="after"))
    state = state.apply(Insert(kind="task", anchor="n1", where="before"))
    state = state.apply(Insert(kind="react_to_post"))  # after Start: the new first step
    assert order(state.sequence) == ["n4", "n3", "n1", "n2"]
    assert_tree(state.sequence)


def test_a_new_condition_takes_what_followed_on_its_yes_branch_or_on_the_branch_asked():
    state = EditorState.open(LINE).apply(Insert(kind="has_professional_email", anchor="b", where="before"))
    assert node(state.sequence, "n1") == HasProfessionalEmail(id="n1", yes="b")
    assert node(state.sequence, "a").next == "n1"
    state = EditorState.open(LINE).apply(Insert(kind="is_connection", anchor="a", branch="no"))
    assert node(state.sequence, "n1") == IsConnection(id="n1", no="b")


def test_insert_first_into_a_branch_pushes_the_branch_down():
    state = EditorState.open(BRANCHY).apply(Insert(kind="visit_profile", anchor="cond", where="yes"))
    assert node(state.sequence, "cond").yes == "n1" and node(state.sequence, "n1").next == "y1"
    state = state.apply(Insert(kind="task", anchor="cond", where="no"))
    assert node(state.sequence, "cond").no == "n2" and node(state.sequence, "n2").next == "x1"


def test_insert_refusals_say_why():
    state = EditorState.open(BRANCHY)
    assert refused(state, Insert(kind="email", anchor="cond", where="after")) == \
        "step cond (Is already a connection) is a condition: insert into its Yes or its No branch"
    assert refused(state, Insert(kind="email", anchor="a", where="yes")) == \
        "step a (Visit profile) is an action: only a condition has Yes and No branches"
    assert refused(state, Insert(kind="email", where="before")) == \
        "steps go after Start: nothing comes before it and it has no Yes/No branch"
    assert refused(state, Insert(kind="fax", anchor="a")).startswith("there is no step kind 'fax'; one of: visit_profile")
    assert refused(state, Insert(kind="email", anchor="zz")) == "there is no step 'zz'"


# --- delete ---------------------------------------------------------------------------


def test_deleting_an_action_reconnects_what_followed():
    state = EditorState.open(LINE).apply(Delete(node="b"))
    assert order(state.sequence) == ["a", "c"] and state.focus == "c"
    state = state.apply(Delete(node="a"))
    assert state.sequence.start == "c"


def test_deleting_a_condition_keeps_the_branch_asked_and_deletes_the_other():
    state = EditorState.open(BRANCHY).apply(Delete(node="cond", keep="yes"))
    assert order(state.sequence) == ["a", "y1", "y2"] and {n.id for n in state.sequence.nodes} == {"a", "y1", "y2"}
    state = EditorState.open(BRANCHY).apply(Delete(node="cond", keep="no"))
    assert order(state.sequence) == ["a", "x1"] and len(state.sequence.nodes) == 2


def test_deleting_a_condition_without_a_choice_is_refused_unless_both_branches_are_empty():
    assert refused(EditorState.open(BRANCHY), Delete(node="cond")) == (
        "step cond (Is already a connection) is a condition: say which branch takes its place (Yes or No; "
        "the other is deleted), or delete it with everything after it")
    assert refused(EditorState.open(BRANCHY), Delete(node="a", keep="yes")) == \
        "step a (Visit profile) is an action: there is no branch to keep"
    bare = chain(VisitProfile(id="a"), IsConnection(id="c"))
    assert EditorState.open(bare).apply(Delete(node="c")).sequence == Sequence(start="a", nodes=[VisitProfile(id="a")])


def test_delete_subtree_takes_the_step_and_everything_after_it():
    state = EditorState.open(BRANCHY).apply(DeleteSubtree(node="cond"))
    assert state.sequence == Sequence(start="a", nodes=[VisitProfile(id="a")]) and state.focus == "a"
    state = EditorState.open(BRANCHY).apply(DeleteSubtree(node="y1"))
    assert node(state.sequence, "cond").yes is None and {"y1", "y2"}.isdisjoint(n.id for n in state.sequence.nodes)
    assert EditorState.open(LINE).apply(DeleteSubtree(node="a")).sequence == Sequence()


# --- move -----------------------------------------------------------------------------


def test_move_up_and_down_swap_actions_in_their_chain_and_undo_each_other():
    up = EditorState.open(LINE).apply(MoveUp(node="c"))
    assert order(up.sequence) == ["a", "c", "b"] and up.focus == "c"
    assert order(up.apply(MoveUp(node="c")).sequence) == ["c", "a", "b"]
    assert up.apply(MoveDown(node="c")).sequence == EditorState.open(LINE).apply(Insert(kind="task")).apply(
        Delete(node="n1")).sequence  # the same tree as LINE, stored in tree order
    delayed = chain(VisitProfile(id="a"), Email(id="b", delay=Delay(days=2)))
    assert node(EditorState.open(delayed).apply(MoveUp(node="b")).sequence, "b").delay == Delay(days=2)
    in_branch = EditorState.open(BRANCHY).apply(MoveDown(node="y1"))
    assert node(in_branch.sequence, "cond").yes == "y2" and node(in_branch.sequence, "y2").next == "y1"


def test_ambiguous_moves_are_refused_with_the_reason():
    state = EditorState.open(BRANCHY)
    assert refused(state, MoveUp(node="a")) == "step a (Visit profile) is already the first step"
    assert refused(state, MoveUp(node="y1")) == (
        "step y1 (LinkedIn message) is the first step of the Yes branch of step cond (Is already a connection): "
        "it cannot move above its condition (cut and paste it)")
    assert refused(state, MoveUp(node="cond")) == (
        "step cond (Is already a connection) cannot move above step a (Visit profile): that step would have to go "
        "into both of its branches")
    assert refused(state, MoveDown(node="a")) == (
        "step a (Visit profile) cannot move below step cond (Is already a connection): it would have to go into "
        "both of its branches")
    assert refused(state, MoveDown(node="cond")) == (
        "step cond (Is already a connection) is a condition: what follows it is its branches, so it cannot move "
        "down (cut and paste it)")
    assert refused(state, MoveDown(node="y2")) == "step y2 (Email “s”) is already the last step of its path"


# --- clipboard ------------------------------------------------------------------------


def test_cut_and_paste_moves_a_piece_with_fresh_ids_and_the_clipboard_survives_undo():
    state = EditorState.open(LINE).apply(Cut(node="b"))
    assert order(state.sequence) == ["a"] and [n.id for n in state.clipboard.nodes] == ["b", "c"]
    state = state.undo()
    assert state.sequence == LINE and state.clipboard.start == "b"
    state = state.apply(Paste(where="after"))  # after Start: the piece, then what was the sequence
    assert order(state.sequence) == ["n1", "n2", "a", "b", "c"] and state.focus == "n1"
    assert kind_of(node(state.sequence, "n1")) == "connection_request"
    assert_tree(state.sequence)


def test_copy_does_not_change_the_tree_nor_the_history():
    state = EditorState.open(BRANCHY).apply(Copy(node="cond"))
    assert state.sequence == BRANCHY and not state.can_undo and state.clipboard.start == "cond"


def test_a_piece_with_branches_pastes_only_where_nothing_follows():
    state = EditorState.open(BRANCHY).apply(Copy(node="cond"))
    assert refused(state, Paste(anchor="a", where="before")) == (
        "the clipboard ends in 2 places (a condition's branches): put it where nothing follows — at the end of a "
        "path or into an empty branch")
    pasted = state.apply(Paste(anchor="x1", where="after"))
    assert node(pasted.sequence, "x1").next == "n1"
    assert [kind_of(n) for n in pasted.sequence.nodes][-4:] == ["is_connection", "linkedin_message", "email",
                                                                 "connection_request"]
    assert refused(EditorState.open(LINE), Paste()) == "the clipboard is empty: cut or copy a step first"


def test_ids_are_never_given_twice_in_a_session():
    state = EditorState.open(LINE).apply(Insert(kind="task", anchor="c")).undo()
    state = state.apply(Insert(kind="email", anchor="c"))
    assert order(state.sequence)[-1] == "n2"
    assert not state.can_redo


# --- parameters -----------------------------------------------------------------------


def test_set_params_replaces_the_form_but_keeps_the_tree_shape():
    form = Email(id="y2", subject="New", body="Hello {first_name}", delay=Delay(hours=3), next="a")
    state = EditorState.open(BRANCHY).apply(SetParams(node=form))
    assert node(state.sequence, "y2") == Email(id="y2", subject="New", body="Hello {first_name}", delay=Delay(hours=3))
    assert refused(state, SetParams(node=Task(id="y2"))) == \
        "step y2 (Email “New”) cannot become a Task: insert a new step and delete this one"
    same = state.apply(SetParams(node=node(state.sequence, "y2")))
    assert same.past == state.past  # saving an unchanged form is not an edit


def test_set_delay():
    state = EditorState.open(LINE).apply(SetDelay(node="b", delay=Delay(days=2, hours=3)))
    assert node(state.sequence, "b").delay == Delay(days=2, hours=3)
    assert state.undo().sequence == LINE


# --- undo / redo ----------------------------------------------------------------------


def test_undo_redo_walk_the_history_and_a_new_edit_drops_the_redo():
    state = EditorState.open(LINE)
    with pytest.raises(EditError, match="nothing to undo"):
        state.undo()
    edited = state.apply(Delete(node="a")).apply(Delete(node="b"))
    assert edited.undo().undo().sequence == LINE
    assert edited.undo().undo().redo().redo().sequence == edited.sequence
    branched = edited.undo().apply(SetDelay(node="c", delay=Delay(days=1)))
    with pytest.raises(EditError, match="nothing to redo"):
        branched.redo()


ALL_KINDS = ["visit_profile", "react_to_post", "connection_request", "linkedin_message", "inmail",
             "linkedin_attachment", "voice_message", "email", "task", "add_to_campaign", "accepted_connection",
             "is_connection", "has_been_contacted", "has_linkedin_profile", "has_professional_email",
             "has_mobile_phone", "custom"]


@st.composite
def command_for(draw, seq: Sequence):
    ids = [n.id for n in seq.nodes] + ["ghost"]
    pick = lambda: draw(st.sampled_from(ids))  # noqa: E731
    where = lambda: draw(st.sampled_from(["before", "after", "yes", "no"]))  # noqa: E731
    anchor = lambda: draw(st.sampled_from([None, *ids]))  # noqa: E731
    kind = draw(st.sampled_from([c.__struct_config__.tag for c in COMMANDS]))
    if kind == "insert":
        return Insert(kind=draw(st.sampled_from(ALL_KINDS)), anchor=anchor(), where=where(),
                      branch=draw(st.sampled_from(["yes", "no"])))
    if kind == "delete":
        return Delete(node=pick(), keep=draw(st.sampled_from([None, "yes", "no"])))
    if kind == "paste":
        return Paste(anchor=anchor(), where=where())
    if kind == "set_delay":
        return SetDelay(node=pick(), delay=Delay(days=draw(st.integers(0, 3)), hours=draw(st.integers(0, 5))))
    if kind == "set_params":
        target = next((n for n in seq.nodes if n.id == pick()), None)
        if target is None:
            return SetParams(node=Task(id="ghost"))
        return SetParams(node=msgspec.structs.replace(target, delay=Delay(days=draw(st.integers(0, 2)))))
    cls = next(c for c in COMMANDS if c.__struct_config__.tag == kind)
    return cls(node=pick())


START_TREES = [Sequence(), LINE, BRANCHY, *(t.sequence for t in BUILTIN_TEMPLATES)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(START_TREES), st.data())
def test_random_edits_then_as_many_undos_give_back_the_original_and_redos_the_edited(start, data):
    state = EditorState.open(start)
    edits = 0
    for _ in range(data.draw(st.integers(1, 40))):
        command = data.draw(command_for(state.sequence))
        try:
            after = state.apply(command)
        except EditError as error:
            assert str(error)
            continue
        assert_tree(after.sequence)
        if after.sequence != state.sequence:
            edits += 1
        assert len(after.past) == edits
        state = after
    event("edits: " + ("10+" if edits >= 10 else str(edits)))
    edited = state.sequence
    for _ in range(edits):
        state = state.undo()
    assert state.sequence == start and not state.can_undo
    for _ in range(edits):
        state = state.redo()
    assert state.sequence == edited and not state.can_redo


def test_every_command_round_trips_through_json():
    for command in [Insert(kind="email", anchor="a", where="no", branch="no"), Delete(node="a", keep="yes"),
                    DeleteSubtree(node="a"), MoveUp(node="a"), MoveDown(node="a"), Cut(node="a"), Copy(node="a"),
                    Paste(anchor="a", where="before"), SetParams(node=Email(id="a", subject="s")),
                    SetDelay(node="a", delay=Delay(days=1))]:
        assert decode_command(msgspec.json.encode(command)) == command
    assert decode_command('{"command": "insert", "kind": "task"}') == Insert(kind="task")
    assert len(COMMANDS) == 10 and all(c.TITLE for c in COMMANDS)


# --- the spec's "Building Dynamic Sequences", with commands alone ---------------------


NOTE = "Hi {first_name|there}, would love to connect."
HELLO = "Hi {first_name|there}, worth a chat about {company|your team}?"
CALL = "Call {first_name|the lead}"


def email_then_call(check: str, email: str, phone_yes: str, call_yes: str, phone_no: str, call_no: str):
    """Has email? yes: email, then has phone? → call; no: has phone? → call."""
    return [
        HasProfessionalEmail(id=check, yes=email, no=phone_no),
        Email(id=email, subject="Hello {first_name|there}", body=HELLO, next=phone_yes),
        HasMobilePhone(id=phone_yes, yes=call_yes),
        Task(id=call_yes, title=CALL, task_type="call"),
        HasMobilePhone(id=phone_no, yes=call_no),
        Task(id=call_no, title=CALL, task_type="call"),
    ]


EXPECTED_DYNAMIC = Sequence(start="n1", nodes=[
    HasLinkedInProfile(id="n1", yes="n2", no="n8"),
    VisitProfile(id="n2", next="n3"),
    IsConnection(id="n3", yes="n4", no="n5"),
    LinkedInMessage(id="n4", chunks=[HELLO], next="n14"),
    *email_then_call("n14", "n15", "n16", "n17", "n18", "n19"),
    ConnectionRequest(id="n5", note=NOTE, next="n6"),
    AcceptedConnection(id="n6", within_days=15, yes="n7", no="n26"),
    LinkedInMessage(id="n7", chunks=["Thanks for connecting!", HELLO], delay=Delay(days=1), next="n20"),
    *email_then_call("n20", "n21", "n22", "n23", "n24", "n25"),
    *email_then_call("n26", "n27", "n28", "n29", "n30", "n31"),
    *email_then_call("n8", "n9", "n10", "n11", "n12", "n13"),
])


def shape(seq: Sequence, node_id: str | None = "start"):
    by_id = {n.id: n for n in seq.nodes}
    node_id = seq.start if node_id == "start" else node_id
    if node_id is None:
        return None
    return (kind_of(by_id[node_id]), *(shape(seq, c) for c in children(by_id[node_id])))


def test_the_spec_dynamic_sequence_built_with_commands_from_an_empty_sequence():
    state = EditorState.open(Sequence())
    for command in [
        Insert(kind="has_linkedin_profile"),                                  # n1
        Insert(kind="visit_profile", anchor="n1", where="yes"),               # n2
        Insert(kind="is_connection", anchor="n2", where="after"),             # n3
        Insert(kind="linkedin_message", anchor="n3", where="yes"),            # n4
        SetParams(node=LinkedInMessage(id="n4", chunks=[HELLO])),
        Insert(kind="connection_request", anchor="n3", where="no"),           # n5
        SetParams(node=ConnectionRequest(id="n5", note=NOTE)),
        Insert(kind="accepted_connection", anchor="n5", where="after"),       # n6
        SetParams(node=AcceptedConnection(id="n6", within_days=15)),
        Insert(kind="linkedin_message", anchor="n6", where="yes"),            # n7
        SetParams(node=LinkedInMessage(id="n7", chunks=["Thanks for connecting!", HELLO])),
        SetDelay(node="n7", delay=Delay(days=1)),
        # the email-then-call tail, built once on the No branch of "Has LinkedIn profile" …
        Insert(kind="has_professional_email", anchor="n1", where="no"),       # n8
        Insert(kind="email", anchor="n8", where="yes"),                       # n9
        SetParams(node=Email(id="n9", subject="Hello {first_name|there}", body=HELLO)),
        Insert(kind="has_mobile_phone", anchor="n9", where="after"),          # n10
        Insert(kind="task", anchor="n10", where="yes"),                       # n11
        SetParams(node=Task(id="n11", title=CALL, task_type="call")),
        Insert(kind="has_mobile_phone", anchor="n8", where="no"),             # n12
        Copy(node="n11"),
        Paste(anchor="n12", where="yes"),                                     # n13
        # … then copied to the end of every other path
        Copy(node="n8"),
        Paste(anchor="n4", where="after"),                                    # n14–n19
        Paste(anchor="n7", where="after"),                                    # n20–n25
        Paste(anchor="n6", where="no"),                                       # n26–n31
    ]:
        state = state.apply(command)
    assert state.sequence == EXPECTED_DYNAMIC
    assert shape(state.sequence) == shape(find_template("Conditional multichannel").sequence)
    assert validate(state.sequence) == []


# --- locked (launched) ----------------------------------------------------------------


def test_locked_structure_is_refused_with_the_lock_message_and_texts_and_delays_pass():
    seq = find_template("LinkedIn Only (New)").sequence
    state = EditorState.open(seq, locked=True)
    assert state.locked
    message = refused(state, Insert(kind="email", anchor="visit"))
    assert message == f"step n1 (Email) was added (and 1 more) — {HINT}"
    assert refused(state, Delete(node="visit")).endswith(HINT)
    assert refused(state, Cut(node="msg1")).startswith("step msg1 (LinkedIn message) was removed (and ")
    assert refused(state, MoveDown(node="visit")) == \
        f"the sequence now starts at 'invite' instead of 'visit' (and 2 more) — {HINT}"
    assert refused(state, SetParams(node=msgspec.structs.replace(node(seq, "react"), reaction="love"))) == \
        f"step react (React to last post): reaction cannot change — {HINT}"
    state = state.apply(Copy(node="msg1"))
    assert refused(state, Paste(anchor="msg1")).endswith(HINT)
    edited = (state.apply(SetParams(node=msgspec.structs.replace(node(seq, "msg1"), chunks=["New text"])))
                   .apply(SetDelay(node="msg1", delay=Delay(days=2)))
                   .apply(SetParams(node=AcceptedConnection(id="accepted", within_days=30))))
    assert node(edited.sequence, "msg1").chunks == ["New text"] and node(edited.sequence, "msg1").delay.days == 2
    assert node(edited.sequence, "accepted").within_days == 30
    assert edited.undo().undo().undo().sequence == seq


# --- rows -----------------------------------------------------------------------------


def test_rows_of_a_branchy_tree_depth_first_yes_before_no_with_an_end_per_path():
    seq = Sequence(start="a", nodes=[
        VisitProfile(id="a", next="cond", delay=Delay(days=2, hours=3)),
        IsConnection(id="cond", yes="y1", no="c2"),
        LinkedInMessage(id="y1", chunks=["x" * 2104]),
        HasProfessionalEmail(id="c2", yes=None, no="x1", delay=Delay(days=1)),
        InMail(id="x1", body="hello"),
    ])
    got = [(r.marker, r.depth, r.branch, r.node, r.delay, r.problems, r.place) for r in rows(seq)]
    assert got == [
        ("start", 0, None, None, "", (), (None, "after")),
        ("step", 0, None, "a", "wait 2 days 3 hours", (), None),
        ("step", 0, None, "cond", "as soon as possible", (), None),
        ("step", 1, "yes", "y1", "as soon as possible", ("message too long 2,104/1,900",), None),
        ("end", 1, None, None, "", (), ("y1", "after")),
        ("step", 1, "no", "c2", "wait 1 day", (), None),
        ("end", 2, "yes", None, "", (), ("c2", "yes")),
        ("step", 2, "no", "x1", "as soon as possible", ("missing subject",), None),
        ("end", 2, None, None, "", (), ("x1", "after")),
    ]
    assert [r.label for r in rows(seq)][:3] == ["Start", "step a (Visit profile)", "step cond (Is already a connection)"]


def test_rows_of_an_empty_sequence_say_so_on_start_and_offer_the_start_to_insert():
    assert [(r.marker, r.problems, r.place) for r in rows(Sequence())] == [
        ("start", ("no steps yet",), (None, "after")), ("end", (), (None, "after"))]
