"""A lead answering our first email, over real SMTP on the mail stack (tests of replies end to end)."""

from __future__ import annotations

import email as email_mod
from email.message import Message

import trio

from runtime.channels.base import SendKey
from runtime.channels.email.config import InboxSettings
from runtime.channels.email.protocol import OutgoingEmail
from runtime.channels.email.smtp import InboxAccount, SmtpEmail
from runtime.clock import wall_now
from tests.support.mailstack import mailbox

ANSWER_ID = "<bob-answer@example.test>"


def answer_first_email(mail_stack, lead, to: str, body: str, *, subject: str = "Re: Quick question") -> Message:
    """Wait until `lead` (a mail stack user) has our first email, answer it from their own account,
    threaded under it (Message-ID `ANSWER_ID`); returns that first email."""
    mail_stack.wait_for(lambda: mailbox(mail_stack, lead), timeout=60, what=f"{lead.address} receives the first email")
    first = email_mod.message_from_bytes(mailbox(mail_stack, lead)[0])
    acct = InboxAccount(99, InboxSettings(lead.address, mail_stack.host, mail_stack.imap_port, mail_stack.host,
                                          mail_stack.smtp_port, "starttls", str(mail_stack.ca_file)), lead.password)
    driver = SmtpEmail({99: acct}.get, wall_now)

    async def answer() -> None:
        await driver.send(OutgoingEmail(99, lead.address, to, subject, body, message_id=ANSWER_ID,
                                        in_reply_to=first["Message-ID"]), SendKey("x", wall_now()))
        await driver.aclose()
    trio.run(answer)
    return first
