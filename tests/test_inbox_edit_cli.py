"""`enginy inbox edit`: an inbox's email rate and signature change without reconnecting it."""

from __future__ import annotations

from storage.inboxes import get_inbox
from storage.workspace import open_workspace
from tests.support.campaign_workspace import enginy, fails, ok_json


def test_edit_caps_and_signature_without_reconnecting(ws, tmp_path):
    ok_json(ws, "identity", "add", "Ana", "--sandbox", "--email", "ana@example.com")
    before = get_inbox(open_workspace(ws).open_db(), 1)
    sig = tmp_path / "sig.txt"
    sig.write_text("Ana Pérez\nAcme <b>sales</b>\n")
    out = ok_json(ws, "inbox", "edit", "ana@example.com", "--per-day", "50", "--per-hour", "8",
                  "--signature-file", str(sig), "--json")
    assert (out["per_day"], out["per_hour"], out["connected"]) == (50, 8, True)
    assert out["signature_text"] == "Ana Pérez\nAcme <b>sales</b>"
    row = get_inbox(open_workspace(ws).open_db(), 1)
    assert (row["per_day"], row["per_hour"], row["signature_text"]) == (50, 8, "Ana Pérez\nAcme <b>sales</b>")
    assert row["updated_at"] != before["updated_at"]  # the identity's actor sees the change (inbox_versions)
    html = tmp_path / "sig.html"
    html.write_text("<p>Ana</p>")
    out = ok_json(ws, "inbox", "edit", "1", "--signature-html-file", str(html), "--json")
    assert out["signature_html"] == "<p>Ana</p>" and out["per_day"] == 50  # what was not given is kept
    proc = enginy(ws, "inbox", "edit", "1", "--signature-file", "-", stdin="")
    assert proc.returncode == 0 and "signature set" in proc.stdout  # the HTML one is still there
    assert get_inbox(open_workspace(ws).open_db(), 1)["signature_text"] == ""


def test_edit_refuses_bad_values_and_changes_nothing(ws, tmp_path):
    ok_json(ws, "identity", "add", "Ana", "--sandbox", "--email", "ana@example.com")
    assert "--per-day must be between 1 and 80 emails per inbox (recommended 30)" in \
        fails(ws, "inbox", "edit", "1", "--per-day", "81", "--per-hour", "6")
    assert "--per-hour must be between 1 and 10" in fails(ws, "inbox", "edit", "1", "--per-hour", "11")
    assert "nothing to change" in fails(ws, "inbox", "edit", "1")
    assert "no inbox 'nobody@example.com'" in fails(ws, "inbox", "edit", "nobody@example.com", "--per-day", "5")
    assert "cannot read it" in fails(ws, "inbox", "edit", "1", "--signature-file", str(tmp_path / "missing.txt"))
    row = get_inbox(open_workspace(ws).open_db(), 1)
    assert (row["per_day"], row["per_hour"], row["signature_text"]) == (30, 5, "")
