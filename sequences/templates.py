"""The built-in campaign templates, as data.

The first seven are the spec's "Campaign Templates" table, in its order, with
its names, categories, overview and "best for" texts (the table has seven
rows, "LinkedIn Social Warming" last). An eighth, "Conditional multichannel",
is the flow of the spec's "Conditional Campaigns" section (check what each
lead has, then pick the channel): it is the only built-in that exercises the
data conditions, so it ships as an example. Every template passes
`validate` and round-trips through JSON (tests check both).

A tree has no joins, so where the spec's flows merge ("then proceed to step
2") the shared tail is copied per branch with its own node ids.
"""

from __future__ import annotations

import re

import msgspec

from sequences.model import (
    AcceptedConnection, ConnectionRequest, Delay, Email, HasLinkedInProfile, HasMobilePhone,
    HasProfessionalEmail, IsConnection, LinkedInMessage, Node, ReactToPost, Sequence, Task,
    VisitProfile, VoiceMessage, kind_of, CHANNEL,
)


class Template(msgspec.Struct, frozen=True):
    name: str
    categories: tuple[str, ...]
    overview: str
    best_for: str
    sequence: Sequence
    builtin: bool = True

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def channels(self) -> list[str]:
        found = {CHANNEL[kind_of(n)] for n in self.sequence.nodes if kind_of(n) in CHANNEL}
        return [c for c in ("linkedin", "email", "task") if c in found]


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def _chain(*nodes: Node) -> Sequence:
    """A linear sequence: each node's `next` is the following one."""
    linked = [msgspec.structs.replace(n, next=nodes[i + 1].id) if i + 1 < len(nodes) else n for i, n in enumerate(nodes)]
    return Sequence(start=linked[0].id, nodes=linked)


def _days(n: int) -> Delay:
    return Delay(days=n)


_NOTE = "Hi {first_name|there}, I work with teams like {company|yours} and would love to connect."
_THANKS = "Thanks for connecting, {first_name|there}!"
_VALUE = ("I noticed {company|your team} is growing. We help {job_title|leaders} cut the busywork out of "
          "outbound. Worth a quick chat?")
_BUMP = "Just floating this back up, {first_name|there} — happy to share a 2-minute overview if useful."
_EMAIL_1 = ("Hi {first_name|there},\n\nI lead outreach at our company and thought of {company|your team} "
            "while looking at how {job_title|teams like yours} run outbound.\n\nWould a 15-minute call next week be useful?")
_EMAIL_2 = "Hi {first_name|there}, bumping this in case it got buried. Happy to send a short overview instead."
_EMAIL_3 = "Hi {first_name|there}, last note from me — if timing is off, just say so and I will not follow up."


def _accepted_then(*after: Node, within: int = 14) -> Sequence:
    """visit → invite → accepted within N days? yes: the chain; no: end (not connected)."""
    chain = _chain(*after)
    nodes = [
        VisitProfile(id="visit", next="invite"),
        ConnectionRequest(id="invite", note=_NOTE, next="accepted"),
        AcceptedConnection(id="accepted", within_days=within, yes=chain.start, no=None),
        *chain.nodes,
    ]
    return Sequence(start="visit", nodes=nodes)


def _email_then_call(branch: str, wait: int = 0) -> list[Node]:
    """Has email? → email; then has phone? → call task (a separate copy per branch: a tree has no joins)."""
    return [
        HasProfessionalEmail(id=f"has_email_{branch}", yes=f"email_{branch}", no=f"has_phone_{branch}_no", delay=_days(wait)),
        Email(id=f"email_{branch}", subject="{company|Your team} + us", body=_EMAIL_1, next=f"has_phone_{branch}_yes"),
        HasMobilePhone(id=f"has_phone_{branch}_yes", yes=f"call_{branch}_yes", delay=_days(2)),
        HasMobilePhone(id=f"has_phone_{branch}_no", yes=f"call_{branch}_no"),
        Task(id=f"call_{branch}_yes", title="Call {first_name|the lead}", task_type="call"),
        Task(id=f"call_{branch}_no", title="Call {first_name|the lead}", task_type="call"),
    ]


BUILTIN_TEMPLATES: tuple[Template, ...] = (
    Template(
        "LinkedIn + Add Voice Message", ("Popular", "Single channel"),
        'Send a LinkedIn connection request and three follow-ups, with the second follow-up being a voice message.',
        'High-value prospects where you want to stand out fast; industries/roles that respond well to personal outreach (founders, sales leaders, execs); breaking through high inbox noise with a “human” touch.',
        _accepted_then(
            LinkedInMessage(id="msg1", chunks=[_THANKS, _VALUE], delay=_days(1)),
            VoiceMessage(id="voice", file="voice/intro.ogg", delay=_days(3)),
            LinkedInMessage(id="msg3", chunks=[_BUMP], delay=_days(4)),
        ),
    ),
    Template(
        "LinkedIn Only (New)", ("Popular", "Single channel"),
        'Engage with your ICP on LinkedIn with a sequence designed to start conversations and a soft landing approach.',
        'Early-stage prospecting when you don’t have verified emails/phones; teams focusing on LinkedIn-first outbound; testing ICP messaging with low operational complexity.',
        _accepted_then(
            ReactToPost(id="react", reaction="most_reacted"),
            LinkedInMessage(id="msg1", chunks=[_THANKS, _VALUE], delay=_days(1)),
            LinkedInMessage(id="msg2", chunks=[_BUMP], delay=_days(5)),
        ),
    ),
    Template(
        "LinkedIn + Email + Call", ("Best results", "Multichannel"),
        'Maximize engagement with a proven triple-touch strategy across LinkedIn, email, and phone. Best for driving results at scale.',
        'High-intent outbound where speed-to-meeting matters; enterprise/mid-market accounts with multiple stakeholders; teams with verified data (email + phone) aiming to maximize reply rates.',
        Sequence(start="visit", nodes=[
            VisitProfile(id="visit", next="invite"),
            ConnectionRequest(id="invite", note=_NOTE, next="accepted"),
            AcceptedConnection(id="accepted", within_days=7, yes="msg1", no="email1"),
            LinkedInMessage(id="msg1", chunks=[_THANKS, _VALUE], delay=_days(1), next="email1b"),
            Email(id="email1b", subject="{company|Your team} + us", body=_EMAIL_1, delay=_days(3), next="call1"),
            Task(id="call1", title="Call {first_name|the lead}", task_type="call", delay=_days(2)),
            Email(id="email1", subject="{company|Your team} + us", body=_EMAIL_1, next="email2"),
            Email(id="email2", body=_EMAIL_2, delay=_days(3), next="call2"),
            Task(id="call2", title="Call {first_name|the lead}", task_type="call", delay=_days(2)),
        ]),
    ),
    Template(
        "LinkedIn + Email", ("Multichannel",),
        'Leverage LinkedIn outreach with email follow-ups to stay top of mind and drive engagement across platforms.',
        'When you have email but calls aren’t part of your motion; increasing touchpoints without heavy ops; nurturing leads that need 2–3 nudges to respond.',
        Sequence(start="visit", nodes=[
            VisitProfile(id="visit", next="invite"),
            ConnectionRequest(id="invite", note=_NOTE, next="accepted"),
            AcceptedConnection(id="accepted", within_days=7, yes="msg1", no="email1"),
            LinkedInMessage(id="msg1", chunks=[_THANKS, _VALUE], delay=_days(1), next="email1b"),
            Email(id="email1b", subject="{company|Your team} + us", body=_EMAIL_1, delay=_days(4)),
            Email(id="email1", subject="{company|Your team} + us", body=_EMAIL_1, next="email2"),
            Email(id="email2", body=_EMAIL_2, delay=_days(4)),
        ]),
    ),
    Template(
        "Email + Call", ("Multichannel",),
        'Engage prospects through a sequence of personalized emails and reinforce their replies with a final follow-up call to maximize engagement.',
        'Classic SDR motion for outbound lists with strong email/phone coverage; speeding up deal cycles with a “close the loop” call; following up on warm signals (opens/replies) with a call.',
        _chain(
            Email(id="email1", subject="{company|Your team} + us", body=_EMAIL_1),
            Email(id="email2", body=_EMAIL_2, delay=_days(3)),
            Email(id="email3", body=_EMAIL_3, delay=_days(4)),
            Task(id="call", title="Call {first_name|the lead}", task_type="call", delay=_days(1)),
        ),
    ),
    Template(
        "Email Only", ("Single channel",),
        'Send a targeted 3-email sequence to capture attention and encourage responses.',
        'High-volume outreach when LinkedIn isn’t available/allowed; outbound to large lists where you want simple execution; deliverability-focused teams running controlled experiments (subject lines, CTAs).',
        _chain(
            Email(id="email1", subject="{company|Your team} + us", body=_EMAIL_1),
            Email(id="email2", body=_EMAIL_2, delay=_days(3)),
            Email(id="email3", body=_EMAIL_3, delay=_days(4)),
        ),
    ),
    Template(
        "LinkedIn Social Warming", ("Single channel",),
        "Engage with your contacts by viewing their profile and liking their last post before sending a connection request.",
        "Warming up cold prospects before pitching; improving acceptance rates for connection requests; "
        "relationship-led outreach where you want to build familiarity first.",
        Sequence(start="visit", nodes=[
            VisitProfile(id="visit", next="like"),
            ReactToPost(id="like", reaction="like", delay=_days(1), next="invite"),
            ConnectionRequest(id="invite", note=_NOTE, delay=_days(1), next="accepted"),
            AcceptedConnection(id="accepted", within_days=14, yes="msg1", no=None),
            LinkedInMessage(id="msg1", chunks=[_THANKS, _VALUE], delay=_days(1), next="msg2"),
            LinkedInMessage(id="msg2", chunks=[_BUMP], delay=_days(5)),
        ]),
    ),
    Template(
        "Conditional multichannel", ("Conditional", "Multichannel"),
        "One campaign that adapts to each contact: LinkedIn where there is a profile, then email, then a call task.",
        "Mixed lists where some leads lack a LinkedIn profile, an email or a phone.",
        Sequence(start="has_li", nodes=[
            HasLinkedInProfile(id="has_li", yes="visit", no="has_email_a"),
            VisitProfile(id="visit", next="is_conn"),
            IsConnection(id="is_conn", yes="msg_conn", no="invite"),
            LinkedInMessage(id="msg_conn", chunks=[_VALUE], next="has_email_b"),
            ConnectionRequest(id="invite", note=_NOTE, next="accepted"),
            AcceptedConnection(id="accepted", within_days=15, yes="msg_new", no="has_email_d"),
            LinkedInMessage(id="msg_new", chunks=[_THANKS, _VALUE], delay=_days(1), next="has_email_c"),
            *_email_then_call("a"),
            *_email_then_call("b", wait=3),
            *_email_then_call("c", wait=3),
            *_email_then_call("d"),
        ]),
    ),
)


def find_template(name: str, extra: tuple[Template, ...] = ()) -> Template | None:
    """A template by name, case-insensitively, or by slug; user templates (`extra`) included."""
    wanted = name.strip().casefold()
    for template in (*BUILTIN_TEMPLATES, *extra):
        if template.name.casefold() == wanted or template.slug == slugify(name):
            return template
    return None


#: The spec table's seven, by name (the eighth built-in is the conditional example).
SPEC_TEMPLATE_NAMES = (
    "LinkedIn + Add Voice Message", "LinkedIn Only (New)", "LinkedIn + Email + Call", "LinkedIn + Email",
    "Email + Call", "Email Only", "LinkedIn Social Warming",
)


class TemplateError(ValueError):
    """A sequence cannot be saved as a template; the message says why."""


def save_as_template(
    name: str, sequence: Sequence, overview: str = "", *, best_for: str = "",
    categories: tuple[str, ...] = ("Saved",), existing: tuple[Template, ...] | None = None,
) -> Template:
    """A campaign's sequence as a reusable (user) template.

    When saving a new one, pass `existing` (the user templates already saved,
    possibly `()`): then an empty name, a name or slug already taken (by a
    built-in or an existing one) and a sequence that fails `validate` raise
    `TemplateError` — a template is something to launch from, so it must be
    launchable. Without `existing` (rebuilding a stored template) nothing is
    checked, so a template saved under older rules still loads."""
    clean = name.strip()
    if existing is not None:
        from sequences.validate import validate

        if not slugify(clean):
            raise TemplateError("a template needs a name")
        clash = find_template(clean, existing)
        if clash is not None:
            raise TemplateError(f"a {'built-in' if clash.builtin else 'saved'} template is already called {clash.name!r}")
        errors = validate(sequence)
        if errors:
            raise TemplateError("the sequence is not valid: " + "; ".join(e.message for e in errors))
    return Template(name=clean, categories=tuple(categories), overview=overview, best_for=best_for,
                    sequence=sequence, builtin=False)
