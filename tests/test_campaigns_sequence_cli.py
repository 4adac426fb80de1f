"""`enginy campaigns sequence` (the editor's tree as text, or the stored JSON) and
`enginy campaigns edit --command` (the editor's commands, saved as the app saves them)."""

from __future__ import annotations

import json

import msgspec
import pytest

from sequences.lock import HINT
from sequences.model import from_json, kind_of
from tests.support.campaign_workspace import enginy, fails, ok_json
from tests.test_sequences_editing import EXPECTED_DYNAMIC


@pytest.fixture
def ws(ws):
    """The empty workspace with the sandbox identity Ada and a Draft from "LinkedIn Only (New)"."""
    ok_json(ws, "identity", "add", "Ada", "--sandbox")
    ok_json(ws, "campaigns", "create", "--template", "LinkedIn Only (New)", "--identity", "Ada", "--name", "Draft")
    return ws


def stored(ws):
    return from_json(json.dumps(ok_json(ws, "campaigns", "sequence", "Draft")))


def test_sequence_prints_the_tree_as_the_editor_draws_it(ws):
    out = enginy(ws, "campaigns", "sequence", "Draft")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "▶ Start",
        "◎ Visit profile  visit  · as soon as possible",
        "⊕ Send LinkedIn connection  invite  · as soon as possible",
        "◇ Accepted LinkedIn connection within 14 days?  accepted  · as soon as possible",
        "├ Yes ♥ React to last post  react  · as soon as possible",
        "│     ✎ LinkedIn message  msg1  · wait 1 day",
        "│     ✎ LinkedIn message  msg2  · wait 5 days",
        "│     ■ End",
        "└ No  ■ End",
    ]
    assert stored(ws).start == "visit"


def test_edit_commands_build_a_draft_step_by_step_and_problems_show_in_the_tree(ws):
    ok_json(ws, "campaigns", "edit", "Draft",
            "--command", '{"command": "delete_subtree", "node": "visit"}',
            "--command", '{"command": "insert", "kind": "email"}',
            "--command", '{"command": "set_delay", "node": "n1", "delay": {"days": 2}}')
    seq = stored(ws)
    assert [n.id for n in seq.nodes] == ["n1"] and seq.nodes[0].delay.days == 2
    # an incomplete Draft is saved as it is, and the tree says what is missing
    lines = enginy(ws, "campaigns", "sequence", "Draft").stdout.splitlines()
    assert lines[1] == "@ Email  n1  ⚠ empty message  ⚠ missing subject  · wait 2 days"


def test_the_spec_dynamic_sequence_through_the_command_line(ws):
    """The tree the app's keys build (the core test's expected tree), from commands in one call:
    each step inserted at its place in the order of its id (so it gets that id), then filled."""
    parent = {child: (p.id, where) for p in EXPECTED_DYNAMIC.nodes
              for where, child in (("after", getattr(p, "next", None)), ("yes", getattr(p, "yes", None)),
                                   ("no", getattr(p, "no", None))) if child}
    commands: list[dict] = [{"command": "delete_subtree", "node": "visit"}]
    for node in sorted(EXPECTED_DYNAMIC.nodes, key=lambda n: int(n.id[1:])):
        anchor, where = parent.get(node.id, (None, "after"))
        params = {k: v for k, v in msgspec.to_builtins(node).items() if k not in ("next", "yes", "no")}
        commands += [{"command": "insert", "kind": kind_of(node), "anchor": anchor, "where": where},
                     {"command": "set_params", "node": params}]
    ok_json(ws, "campaigns", "edit", "Draft", *[a for c in commands for a in ("--command", json.dumps(c))])
    assert stored(ws) == EXPECTED_DYNAMIC


def test_a_refused_command_says_which_and_why_in_one_line_and_nothing_is_written(ws):
    before = stored(ws)
    line = fails(ws, "campaigns", "edit", "Draft", "--command", '{"command": "set_delay", "node": "visit", '
                 '"delay": {"days": 1}}', "--command", '{"command": "delete", "node": "accepted"}')
    assert line == ("enginy: --command 2 (delete a step): step accepted (Accepted LinkedIn connection within "
                    "14 days) is a condition: say which branch takes its place (Yes or No; the other is deleted), "
                    "or delete it with everything after it")
    assert stored(ws) == before
    assert fails(ws, "campaigns", "edit", "Draft", "--command", '{"command": "fax"}').startswith(
        "enginy: --command 1 is not an editor command: Invalid value 'fax'")
    assert fails(ws, "campaigns", "edit", "Draft", "--command", "{").startswith("enginy: --command 1 is not an")
    assert fails(ws, "campaigns", "edit", "Draft", "--command", "{}", "--sequence", "x.json") == \
        "enginy: give --sequence FILE or --command JSON, not both"


def test_a_launched_campaign_takes_delays_and_texts_and_refuses_structure_with_the_lock_message(ws):
    ok_json(ws, "campaigns", "launch", "Draft", "--force")  # (no audience: the lock is the point here)
    line = fails(ws, "campaigns", "edit", "Draft", "--command", '{"command": "delete", "node": "msg2"}')
    assert line.startswith("enginy: --command 1 (delete a step): step msg2 (LinkedIn message) was removed")
    assert line.endswith(HINT)
    ok_json(ws, "campaigns", "edit", "Draft", "--command", '{"command": "set_delay", "node": "msg2", '
            '"delay": {"hours": 5}}')
    assert {n.id: n for n in stored(ws).nodes}["msg2"].delay.hours == 5
