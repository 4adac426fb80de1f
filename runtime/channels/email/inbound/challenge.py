"""Challenge-response filters: "verify you are a person to have your message delivered".

Boxbe, Bluebottle, SpamArrest, MailInBlack, TMDA and whitelisting MTAs hold
our message until the sender proves to be human. Such a notice often threads
to our message and comes from the lead's own address, so without this check
it reads as a reply. It is not one: the lead has not even seen our message.

The verification link is extracted to be shown to the user, who decides.
Nothing in enginy ever follows it (that would confirm to a filter that a
robot answers, and would be an action the user never chose).
"""

from __future__ import annotations

import re
from email.message import Message

from runtime.channels.email.inbound import parse as mp
from runtime.channels.email.inbound import phrases

# Services whose only mail to a stranger is the challenge itself.
VENDORS = ("boxbe", "bluebottle", "spamarrest", "mailinblack", "choicemail", "sendio", "permitmail", "spamenmoins",
           "mailwasher", "qurb", "earthlink-spamblocker", "tmda")
_VENDOR = re.compile(r"(?:^|[@./-])(?:" + "|".join(VENDORS) + r")(?:[./-]|$)", re.I)
_HEADERS = ("X-Boxbe-Guestlist", "X-Challenge", "X-Spam-Arrest", "X-TMDA-Confirm", "X-Delivery-Agent")
_URL = re.compile(r"https?://[^\s<>\"')\]]{4,500}", re.I)
_LINK_WORDS = re.compile(r"verif|confirm|approv|allow|deliver|guest|whitelist|challenge|captcha|anno|release|valid", re.I)


def challenge_signals(msg: Message, text: str) -> list[str]:
    """Why `msg` is a challenge (empty when it is not one)."""
    signals = []
    for name in _HEADERS:
        value = mp.header(msg, name)
        if value and (name != "X-Delivery-Agent" or "tmda" in value.lower()):
            signals.append(f"header {name.lower()}")
    senders = " ".join(mp.address_of(mp.header(msg, n)) for n in ("From", "Sender", "Return-Path"))
    vendor = _VENDOR.search(senders) or next((_VENDOR.search(u) for u in _URL.findall(text[:8000]) if _VENDOR.search(u)), None)
    if vendor:
        signals.append(f"challenge service {vendor.group(0).strip('@./-').lower()}")
    lang = phrases.find("challenge", text[:8000]) or phrases.find("challenge", mp.header(msg, "Subject"))
    if lang:
        signals.append(f"challenge wording ({lang})")
    # One weak hint (a vendor name in a link, or wording alone) is not enough:
    # a person may write "I use Boxbe" or "add me to your allowed list".
    has_link = verification_link(text) is not None
    strong = any(s.startswith("header") or s.startswith("challenge service") for s in signals)
    if (strong and has_link) or (lang and has_link and (strong or _machine_hint(msg) or len(signals) > 1 or len(text) < 3000)):
        return signals + ["verification link"]
    return []


def _machine_hint(msg: Message) -> bool:
    auto = mp.header(msg, "Auto-Submitted").lower()
    return bool((auto and not auto.startswith("no")) or mp.envelope_sender(msg) == "")


def verification_link(text: str) -> str | None:
    """The link the notice asks the sender to visit (the one that names verification first)."""
    urls = _URL.findall(text[:8000])
    ranked = sorted(urls, key=lambda u: (not _VENDOR.search(u), not _LINK_WORDS.search(u)))
    best = ranked[0] if ranked else None
    if best and (_VENDOR.search(best) or _LINK_WORDS.search(best)):
        return mp.clean(best.rstrip(".,;:"))
    return None
