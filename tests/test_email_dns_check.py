"""`enginy inbox check-dns` against a DNS server of our own on loopback (real UDP, real wire format)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.dns_server import DnsServer

ROOT = Path(__file__).parent.parent
KEY = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 8  # longer than one 255-byte string


def check(port: int, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "inbox", "check-dns", *args,
                           "--nameserver", f"127.0.0.1:{port}", "--timeout", "0.5"], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_a_well_configured_domain_passes_and_a_bare_one_is_told_what_to_add():
    zone = {"acme.test": ["google-site-verification=x", "v=spf1 include:_spf.google.com ~all"],
            "google._domainkey.acme.test": [KEY],
            "_dmarc.acme.test": ["v=DMARC1; p=quarantine; rua=mailto:d@acme.test"],
            "bare.test": ["hello"]}
    with DnsServer(zone) as dns:
        good = check(dns.port, "ana@acme.test", "--json")
        assert good.returncode == 0, good.stderr
        out = json.loads(good.stdout)
        assert out["ok"] and [c["check"] for c in out["checks"]] == ["SPF", "DKIM", "DMARC"]
        assert out["checks"][1]["name"] == "google._domainkey.acme.test" and out["checks"][1]["record"] == KEY
        bare = check(dns.port, "bare.test")
        assert bare.returncode == 1
        lines = bare.stdout.splitlines()
        assert lines[1].startswith("SPF    MISSING") and "v=spf1" in lines[1]
        assert "DKIM" in lines[2] and "--selector" in lines[2]
        assert "DMARC" in lines[3] and "_dmarc.bare.test" in lines[3]


def test_wrong_records_and_a_named_selector():
    zone = {"loose.test": ["v=spf1 +all"], "sel9._domainkey.loose.test": ["v=DKIM1; p="],
            "_dmarc.loose.test": ["v=DMARC1; rua=mailto:x@loose.test"],
            "twice.test": ["v=spf1 -all", "v=spf1 include:x ~all"]}
    with DnsServer(zone) as dns:
        out = json.loads(check(dns.port, "loose.test", "--selector", "sel9", "--json").stdout)
        spf, dkim, dmarc = out["checks"]
        assert not spf["ok"] and "+all" in spf["advice"]
        assert not dkim["ok"] and "empty" in dkim["advice"]
        assert not dmarc["ok"] and "policy" in dmarc["advice"]
        assert "several SPF records" in json.loads(check(dns.port, "twice.test", "--json").stdout)["checks"][0]["advice"]


def test_bad_input_and_a_silent_server_are_one_line_errors():
    bad = check(53, "not a domain")
    assert bad.returncode == 2 and "not an email address or a domain" in bad.stderr and "Traceback" not in bad.stderr
    with DnsServer({}) as dns:
        port = dns.port
    silent = subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "inbox", "check-dns", "a.test",
                             "--nameserver", f"127.0.0.1:{port}", "--timeout", "0.5"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert silent.returncode == 2 and "no answer from the name server" in silent.stderr
    assert "Traceback" not in silent.stderr
