"""`enginy inbox check-dns`: are the sending domain's SPF, DKIM and DMARC records there?

The spec's deliverability advice ("ensure SPF/DKIM/DMARC are configured")
made checkable: the TXT records are read with dnspython, from the system's
resolver or a given name server, and each check says what is missing in a
sentence a user can act on. Only presence and the obvious mistakes are
judged (no SPF include expansion, no DKIM key validation): what a user can
fix in their DNS panel.
"""

from __future__ import annotations

from dataclasses import dataclass

#: DKIM selectors tried when none is given: Google Workspace, Microsoft 365 (two), common defaults.
COMMON_SELECTORS = ("google", "selector1", "selector2", "default", "dkim", "mail", "k1", "s1")


@dataclass(frozen=True)
class Check:
    name: str  # SPF | DKIM | DMARC
    ok: bool
    record: str  # the record found ("" when none)
    where: str  # the DNS name read
    advice: str  # what to do ("" when nothing)

    def as_dict(self) -> dict:
        return {"check": self.name, "ok": self.ok, "record": self.record, "name": self.where, "advice": self.advice}


class DnsLookupError(Exception):
    """The name server could not be asked (not: the record does not exist)."""


def resolver(nameserver: str | None = None, port: int = 53, timeout: float = 5.0):
    import dns.resolver

    if nameserver is None:
        r = dns.resolver.Resolver()
    else:
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = [nameserver]
        r.port = port
    r.lifetime = timeout
    return r


def txt(res, name: str) -> list[str]:
    """The TXT strings at `name` (each record's chunks joined), [] when there are none."""
    import dns.exception
    import dns.resolver

    try:
        answer = res.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise DnsLookupError(f"no answer from the name server for {name} ({type(exc).__name__})") from None
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]


def check_spf(res, domain: str) -> Check:
    records = [t for t in txt(res, domain) if t.lower().startswith("v=spf1")]
    if not records:
        return Check("SPF", False, "", domain, f"no SPF record: add a TXT record on {domain} such as "
                     "'v=spf1 include:<your provider's SPF domain> ~all' (Google: _spf.google.com, "
                     "Microsoft 365: spf.protection.outlook.com)")
    if len(records) > 1:
        return Check("SPF", False, " | ".join(records), domain,
                     "several SPF records: receivers treat that as an error; merge them into one")
    record = records[0]
    if record.split()[-1].lower() in ("+all", "all"):
        return Check("SPF", False, record, domain, "the record ends in +all, which lets anyone send as this domain; "
                     "end it with ~all or -all")
    return Check("SPF", True, record, domain, "")


def check_dkim(res, domain: str, selector: str | None) -> Check:
    selectors = (selector,) if selector else COMMON_SELECTORS
    for s in selectors:
        name = f"{s}._domainkey.{domain}"
        for record in txt(res, name):
            if "p=" in record.replace(" ", ""):
                if "p=;" in record.replace(" ", "") or record.replace(" ", "").endswith("p="):
                    return Check("DKIM", False, record, name, "the DKIM key is empty (revoked); publish the current key")
                return Check("DKIM", True, record, name, "")
    tried = selector or ", ".join(COMMON_SELECTORS)
    return Check("DKIM", False, "", f"<selector>._domainkey.{domain}",
                 f"no DKIM key found (selectors tried: {tried}); turn DKIM signing on at your provider and publish "
                 "its TXT record, or give the selector your provider uses with --selector")


def check_dmarc(res, domain: str) -> Check:
    name = f"_dmarc.{domain}"
    records = [t for t in txt(res, name) if t.replace(" ", "").lower().startswith("v=dmarc1")]
    if not records:
        return Check("DMARC", False, "", name, f"no DMARC record: add a TXT record on {name} such as "
                     "'v=DMARC1; p=none; rua=mailto:dmarc@" + domain + "' (start with p=none, tighten later)")
    tags = dict(part.strip().split("=", 1) for part in records[0].split(";") if "=" in part)
    if tags.get("p", "").strip().lower() not in ("none", "quarantine", "reject"):
        return Check("DMARC", False, records[0], name, "the DMARC record has no valid policy (p=none|quarantine|reject)")
    return Check("DMARC", True, records[0], name, "")


def check_domain(res, domain: str, selector: str | None = None) -> list[Check]:
    return [check_spf(res, domain), check_dkim(res, domain, selector), check_dmarc(res, domain)]
