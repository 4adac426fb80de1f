"""`enginy identity delete`, `identity edit --likings-opt-out` and `inbox disconnect` through the
real command: what goes is said first, secrets leave the store, the spec's warnings are printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.secrets import SecretStore
from sequences.model import ConnectionRequest, Sequence
from storage.identity_delete import WARNING
from storage.inboxes import DISCONNECT_WARNING
from storage.workspace import open_workspace
from tests.support.campaign_workspace import NOW, enginy, fails, ok_json
from tests.support.seed import contacts, running_campaign, sandbox_identity


@pytest.fixture
def ws(ws: Path) -> Path:
    """Ana (1) and Bo (2, with a running campaign of 3 leads, 1 mid-sequence on his inbox and a
    stored password), secrets in files."""
    toml = ws / "enginy.toml"
    toml.write_text(toml.read_text().replace('backend = "keyring"', 'backend = "file"'))
    db = open_workspace(ws).open_db()
    for name in ("Ana", "Bo"):
        sandbox_identity(db, name, now=NOW, email=f"{name.lower()}@example.com")
    contacts(db, [{"first_name": f"Lead{i}", "last_name": "[bold]X[/]", "email": f"l{i}@example.com",
                   "linkedin_url": f"https://www.linkedin.com/in/l{i}"} for i in range(1, 4)], now=NOW)
    running_campaign(db, identity=2, name="Bo's push", contact_ids=[1, 2, 3], now=NOW,
                     sequence=Sequence(start="i", nodes=[ConnectionRequest(id="i")]))
    db.execute("UPDATE enrollments SET status = 'in_progress', inbox_id = 2 WHERE contact_id = 1")
    SecretStore.of(open_workspace(ws)).save("inbox-2", "hunter2")
    db.close()
    return ws


def test_delete_says_what_goes_asks_and_forgets_the_secrets(ws: Path) -> None:
    plan = ok_json(ws, "identity", "delete", "Bo", "--dry-run")
    assert plan["deleted"] is False and plan["identity_id"] == 2
    assert [(c["name"], c["leads"], c["active"]) for c in plan["campaigns"]] == [("Bo's push", 3, 1)]
    assert plan["inboxes"] == ["bo@example.com"] and plan["secrets"] == ["inbox-2"]
    human = enginy(ws, "identity", "delete", "Bo", "--dry-run").stdout
    assert "campaign #1 Bo's push (running, 3 leads, 1 mid-sequence)" in human and WARNING in human
    assert "needs --yes" in fails(ws, "identity", "delete", "Bo")  # no terminal to ask on
    assert len(ok_json(ws, "identity", "list")) == 2  # nothing deleted yet
    done = ok_json(ws, "identity", "delete", "Bo", "--yes")
    assert done["deleted"] is True and done["secrets_forgotten"] == ["inbox-2"]
    assert not (ws / ".secrets" / "inbox-2.secret").exists()
    assert [i["name"] for i in ok_json(ws, "identity", "list")] == ["Ana"]
    assert "no identity 'Bo'" in fails(ws, "identity", "delete", "Bo", "--yes")


def test_likings_opt_out_is_stored_shown_and_changeable(ws: Path) -> None:
    assert ok_json(ws, "identity", "show", "Ana")["linkedin"]["likings_opt_out"] is False
    out = ok_json(ws, "identity", "edit", "Ana", "--likings-opt-out")
    assert out["linkedin"]["likings_opt_out"] is True
    assert "likings opt-out" in enginy(ws, "identity", "show", "Ana").stdout
    assert ok_json(ws, "identity", "edit", "Ana", "--no-likings-opt-out")["linkedin"]["likings_opt_out"] is False


def test_disconnect_warns_lists_the_leads_mid_sequence_and_forgets_the_password(ws: Path) -> None:
    human = enginy(ws, "inbox", "disconnect", "bo@example.com")
    assert human.returncode == 0, human.stderr
    assert DISCONNECT_WARNING in human.stdout and "Lead1 [bold]X[/] <l1@example.com> · Bo's push" in human.stdout
    assert not (ws / ".secrets" / "inbox-2.secret").exists()
    again = json.loads(enginy(ws, "inbox", "disconnect", "2", "--json").stdout)
    assert again["active_leads"] == 1 and again["leads_mid_sequence"][0]["first_name"] == "Lead1"
    assert again["warning"] == DISCONNECT_WARNING
