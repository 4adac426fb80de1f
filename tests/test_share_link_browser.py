"""The share link end to end: `enginy identity share` makes it, `enginy tracking serve`'s handler serves it,
headless Chromium (Debian's, driven by selenium) fills the page against the real Dovecot/Postfix stack, and
the inbox is connected in the SQLite file; the used link and an expired one are refused with their pages.
The LinkedIn form (login, then the two-step code) is posted over HTTP against the contract gateway.

Skipped where Chromium is not installed, except under CI (`CI` set), where tools/install-system-deps
installs it and a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from cli.tracking import make_handler
from runtime.clock import wall_now
from storage.db import open_db
from storage.timeline import save_position
from storage.workspace import open_workspace
from tests.support.linkedin_fixtures import *  # noqa: F401,F403 (the gateway fixtures)
from tests.support.linkedin_fixtures import ACCOUNT, API_KEY, world

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.timeout(120)


def _browser_missing() -> str | None:
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e .[test])")
    return f"not installed: {', '.join(missing)} (run tools/install-system-deps)" if missing else None


def enginy(ws: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws), *args],
                          input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.fixture
def browser():
    reason = _browser_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=900,1100"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def ws(ws):
    """The common workspace keeping secrets in files, one identity whose name is markup, Ana <b>."""
    toml = ws / "enginy.toml"
    toml.write_text(toml.read_text().replace('backend = "keyring"', 'backend = "file"'))
    assert enginy(ws, "identity", "add", "Ana <b>bold</b>").returncode == 0
    return ws


@pytest.fixture
def server(ws):
    """`enginy tracking serve`'s handler on a free loopback port; yields its base URL."""
    workspace = open_workspace(ws)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(str(workspace.db_path), workspace))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def share(ws: Path, base: str, *extra: str, stdin: str = "") -> str:
    proc = enginy(ws, "identity", "share", "1", "--base-url", base, "--json", *extra, stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["url"]


def status(url: str) -> int:
    try:
        return urllib.request.urlopen(url).status
    except urllib.error.HTTPError as exc:
        return exc.code


def fill(browser, stack, user, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    for field, value in (("email", user.address), ("password", password), ("imap_host", stack.host),
                         ("imap_port", str(stack.imap_port)), ("smtp_host", stack.host),
                         ("smtp_port", str(stack.smtp_port))):
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    Select(browser.find_element(By.ID, "tls")).select_by_value("starttls")
    submit(browser)


def submit(browser) -> None:
    """Submit the page's form and wait for the answer page: a click does not wait for the navigation
    it starts, and the server answers only once the mail server has judged the login (seconds for a
    wrong password, which Dovecot delays)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    button = browser.find_element(By.CSS_SELECTOR, "button[type=submit]")
    button.click()
    WebDriverWait(browser, 30).until(EC.staleness_of(button))
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return document.readyState") == "complete")


def test_the_owner_connects_their_inbox_once(mail_stack, ws, server, browser):
    from selenium.webdriver.common.by import By

    ana = mail_stack.new_user("ana")
    url = share(ws, server, "--ca-file", str(mail_stack.ca_file))
    browser.get(url)
    assert browser.title == "Connect your accounts"
    assert not browser.find_elements(By.ID, "username")  # no gateway given: no LinkedIn form
    labels = {e.get_attribute("for") for e in browser.find_elements(By.TAG_NAME, "label")}
    assert {"email", "password", "imap_host", "imap_port", "smtp_host", "smtp_port", "tls"} <= labels
    assert "Ana <b>bold</b>" in browser.find_element(By.TAG_NAME, "main").text  # the name is text, not markup

    fill(browser, mail_stack, ana, "not-the-password")  # refused by Dovecot: nothing saved, details kept
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert "Authentication failed" in alert and "nothing was saved" in alert
    assert browser.find_element(By.ID, "password").get_attribute("value") == ""
    assert browser.find_element(By.ID, "imap_host").get_attribute("value") == mail_stack.host

    fill(browser, mail_stack, ana, ana.password)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Inbox connected"
    db = open_db(ws / "enginy.db")
    inbox = db.execute("SELECT id, email, connected, identity_id FROM inboxes").fetchall()
    assert [row[1:] for row in inbox] == [(ana.address, 1, 1)]
    assert db.execute("SELECT used_for FROM share_links").fetchall() == [(f"inbox {ana.address}",)]
    assert (ws / ".secrets" / f"inbox-{inbox[0][0]}.secret").read_text().strip() == ana.password

    browser.get(url)  # the second use
    assert browser.find_element(By.TAG_NAME, "h1").text == "Link already used"
    assert status(url) == 410

    expiring = share(ws, server)
    assert status(expiring) == 200
    save_position(db, wall_now() + timedelta(hours=24, minutes=1))  # the workspace's clock moves on a day
    browser.get(expiring)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Link expired"
    assert status(expiring) == 410
    db.conn.close()  # reading the files below drops this process's SQLite locks: only once nothing is open
    for path in ws.glob("enginy.db*"):
        assert ana.password.encode() not in path.read_bytes()


def test_unknown_forged_and_revoked_links_are_refused(ws, server):
    url = share(ws, server)
    link_id, secret = url.rsplit("/", 2)[1:]
    assert status(f"{server}/s/{link_id}/{'A' * len(secret)}") == 404  # a forged secret
    assert status(f"{server}/s/99/{secret}") == 404
    assert status(f"{server}/s/{link_id}") == 404
    data = b"email=x%40example.com&password=p&imap_host=h&imap_port=993&smtp_host=h&smtp_port=465"
    forged = urllib.request.Request(f"{server}/s/{link_id}/{'A' * len(secret)}", data=data, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged)
    assert refused.value.code == 404
    page = urllib.request.urlopen(url).read().decode()
    assert "Ana &lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold" not in page
    listed = json.loads(enginy(ws, "identity", "share", "--list", "--json").stdout)
    assert [r["id"] for r in listed] == [int(link_id)] and "token_hash" not in listed[0]
    assert json.loads(enginy(ws, "identity", "share", "1", "--revoke", "--json").stdout)["revoked"] == 1
    assert status(url) == 410



def test_bad_share_commands_say_what_is_wrong_and_make_no_link(ws, tmp_path):
    """No identity, an unknown one, a CA file that is not there: one line each, exit 2, no link made."""
    said = {}
    for name, args in {"no identity": ("identity", "share"),
                       "unknown": ("identity", "share", "Nobody"),
                       "no ca file": ("identity", "share", "1", "--ca-file", str(tmp_path / "missing.pem"))}.items():
        proc = enginy(ws, *args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, (name, proc.stderr)
        said[name] = proc.stderr
    assert "name the identity (id or name)" in said["no identity"]
    assert "Nobody" in said["unknown"]
    assert f"--ca-file {tmp_path / 'missing.pem'}: no such file" in said["no ca file"]
    assert json.loads(enginy(ws, "identity", "share", "--list", "--json").stdout) == []

def post(url: str, **fields: str) -> tuple[int, str]:
    from urllib.parse import urlencode

    request = urllib.request.Request(url, data=urlencode(fields).encode(), method="POST")
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_owner_connects_linkedin_with_a_two_step_code(ws, server, gateway):
    spec = world()
    spec["logins"] = [{"username": "ana@example.com", "password": "s3cret", "api_key": API_KEY,
                       "account_id": ACCOUNT, "code": "123456"}]
    gateway.reset(**spec)
    url = share(ws, server, "--gateway", gateway.url, "--api-key-stdin", stdin=API_KEY + "\n")
    link_id = url.rsplit("/", 2)[1]
    assert (ws / ".secrets" / f"share-link-{link_id}.secret").exists()
    assert 'name="li_password"' in urllib.request.urlopen(url).read().decode()

    code, page = post(url, channel="linkedin", username="ana@example.com", li_password="nope")
    assert code == 400 and "username or password" in page and "nope" not in page
    code, page = post(url, channel="linkedin", username="ana@example.com", li_password="s3cret")
    assert code == 200 and 'name="code"' in page and ACCOUNT not in page  # the pending account stays server-side
    code, page = post(url, channel="code", code="000000")
    assert code == 400 and "not accepted" in page and 'name="li_password"' in page  # log in again
    post(url, channel="linkedin", username="ana@example.com", li_password="s3cret")
    code, page = post(url, channel="code", code="123456")
    assert code == 200 and "LinkedIn connected" in page

    db = open_db(ws / "enginy.db")
    row = db.execute("SELECT linkedin_driver, linkedin_connected, linkedin_account_id FROM identities").fetchone()
    assert row == ("gateway", 1, ACCOUNT)
    db.conn.close()
    assert (ws / ".secrets" / "linkedin-1.secret").read_text().strip() == API_KEY
    assert not (ws / ".secrets" / f"share-link-{link_id}.secret").exists()  # the link's copy is forgotten
    assert post(url, channel="code", code="123456")[0] == 410
