"""The `gateway` LinkedIn driver: the protocol of `protocol.py` over a Unipile-style REST API.

Every call names the identity's `account_id`; the key goes in `X-API-KEY`
(see `http.py` for timeouts, retries and why requests run in a
worker thread). Endpoints (Unipile v1 shapes, base `…/api/v1`):

| driver call | request |
|---|---|
| account | GET /users/me |
| profile / visit_profile | GET /users/{id}?notify=false / true |
| react_to_last_post | GET /users/{id}/posts, GET /posts/{social_id}/reactions, POST /posts/reaction |
| send_invitation | POST /users/invite |
| sent_invitations | GET /users/invite/sent (paged) |
| withdraw_invitation | DELETE /users/invite/sent/{invitation_id} |
| send_message / attachment / voice | POST /chats (new chat) or POST /chats/{chat_id}/messages, multipart |
| send_inmail | POST /chats with linkedin[inmail]=true, subject |
| has_prior_conversation | GET /chat_attendees/{provider_id}/chats |
| relations_since | GET /users/relations (paged, newest first) |
| inbound_messages_since | GET /chats?after=, GET /chats/{id}/messages?after= |
| inmail_credits | GET /linkedin/inmail_balance |

Never twice: before re-sending after an unknown outcome (`SendKey.resumed`,
or a timeout/5xx during this call) the driver looks the action up: a pending
invitation to the same provider_id (LinkedIn allows one) or a connection
already made; messages of ours in the lead's chat since the key's first
attempt whose text (and attachment) match — only the chunks not found are
sent. Look-ups never send; a look-up that fails raises `OutcomeUnknown`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Sequence

import httpx
import trio

from runtime.channels.linkedin.protocol import AccountInfo, Attachment, GatewayUnavailable, InboundMessage, InvalidAction, InvitationSent, LeadRef, LeadUnreachable, LinkedInError, MessageSent, OutcomeUnknown, PostReaction, Profile, Relation, SentInvitation, check_inmail, check_message, check_note
from sequences.model import Reaction
from sequences.statuses import Substatus
from runtime.channels.base import SendKey
from runtime.channels.linkedin.http import GatewayHttp, HttpPolicy, MaybeApplied

LOOKUP_SKEW = timedelta(minutes=5)
"""Tolerance between our clock and the gateway's when matching "sent since"."""

_DISTANCE = {"FIRST_DEGREE": 1, "SECOND_DEGREE": 2, "THIRD_DEGREE": 3, "OUT_OF_NETWORK": 4,
             "DISTANCE_1": 1, "DISTANCE_2": 2, "DISTANCE_3": 3}


def parse_time(value: Any) -> datetime | None:
    """Gateway timestamps: ISO-8601 text (Z or offset) or epoch milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _items(body: Any) -> list[dict]:
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return [i for i in body["items"] if isinstance(i, dict)]
    return []


def _profile(body: Any) -> Profile:
    if not isinstance(body, dict) or not body.get("provider_id"):
        raise LeadUnreachable("the gateway returned no profile for this lead",
                              code="no_profile", substatus=Substatus.INVALID_LINKEDIN_ID)
    invitation = body.get("invitation") if isinstance(body.get("invitation"), dict) else {}
    distance = body.get("network_distance")
    return Profile(
        provider_id=str(body["provider_id"]),
        public_id=body.get("public_identifier"),
        first_name=body.get("first_name") or "",
        last_name=body.get("last_name") or "",
        headline=body.get("headline") or "",
        network_distance=1 if body.get("is_relationship") else _DISTANCE.get(str(distance).upper()),
        pending_invitation=invitation.get("status", "").upper() == "PENDING"
        and invitation.get("type", "SENT").upper() == "SENT",
    )


class GatewayDriver:
    """One identity's LinkedIn through a gateway account. See the module docstring."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        account_id: str,
        *,
        policy: HttpPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = trio.sleep,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if not account_id:
            raise ValueError("an account id is required")
        self.account_id = account_id
        self._sleep = sleep
        self.http = GatewayHttp(base_url, api_key, policy=policy, transport=transport,
                                sleep=sleep, now=now)
        self.policy = self.http.policy
        self._provider_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"GatewayDriver({self.http.base_url!r}, account_id={self.account_id!r})"

    async def aclose(self) -> None:
        self.http.close()

    # -- small helpers ----------------------------------------------------

    def _params(self, **extra: Any) -> dict:
        params = {"account_id": self.account_id}
        params.update({k: v for k, v in extra.items() if v is not None})
        return params

    async def _get(self, path: str, action: str, **params: Any) -> Any:
        return await self.http.call("GET", path, params=self._params(**params), action=action,
                                    idempotent=True)

    async def _pages(self, path: str, action: str, **params: Any):
        """Yield the items of a cursor-paged list, page by page."""
        cursor = None
        while True:
            body = await self._get(path, action, limit=self.policy.page_limit, cursor=cursor, **params)
            yield _items(body)
            cursor = body.get("cursor") if isinstance(body, dict) else None
            if not cursor:
                return

    async def _provider_id(self, lead: LeadRef) -> str:
        if lead.provider_id:
            return lead.provider_id
        ident = lead.identifier
        if ident not in self._provider_ids:
            self._provider_ids[ident] = (await self.profile(lead)).provider_id
        return self._provider_ids[ident]

    # -- reads --------------------------------------------------------------

    async def account(self) -> AccountInfo:
        body = await self._get("/users/me", "reading the account profile")
        if not isinstance(body, dict) or not body.get("provider_id"):
            raise GatewayUnavailable("the gateway answered GET /users/me without a profile",
                                     code="bad_response")
        return AccountInfo(
            provider_id=str(body["provider_id"]),
            public_id=body.get("public_identifier"),
            first_name=body.get("first_name") or "",
            last_name=body.get("last_name") or "",
            headline=body.get("occupation") or body.get("headline") or "",
            premium=body.get("premium"),
            sales_navigator=(body.get("sales_navigator") or {}).get("owner_seat_id") is not None
            if isinstance(body.get("sales_navigator"), dict) else body.get("sales_navigator"),
        )

    async def _read_profile(self, lead: LeadRef, notify: bool) -> Profile:
        body = await self._get(f"/users/{lead.identifier}", "reading a profile",
                               notify="true" if notify else "false")
        return _profile(body)

    async def profile(self, lead: LeadRef) -> Profile:
        return await self._read_profile(lead, notify=False)

    async def visit_profile(self, lead: LeadRef) -> Profile:
        return await self._read_profile(lead, notify=True)

    async def is_connection(self, lead: LeadRef) -> bool:
        return (await self.profile(lead)).is_connection

    async def _chats_with(self, provider_id: str) -> list[dict]:
        body = await self._get(f"/chat_attendees/{provider_id}/chats", "listing chats")
        return _items(body)

    async def has_prior_conversation(self, lead: LeadRef) -> bool:
        return bool(await self._chats_with(await self._provider_id(lead)))

    async def sent_invitations(self) -> list[SentInvitation]:
        found: list[SentInvitation] = []
        async for page in self._pages("/users/invite/sent", "listing sent invitations"):
            for item in page:
                pid = item.get("invited_user_id") or item.get("provider_id")
                if not item.get("id") or not pid:
                    continue
                found.append(SentInvitation(
                    invitation_id=str(item["id"]), provider_id=str(pid),
                    public_id=item.get("invited_user_public_id"),
                    sent_at=parse_time(item.get("parsed_datetime") or item.get("date")),
                    note=item.get("invitation_text") or None,
                ))
        return found

    async def relations_since(self, since: datetime | None) -> list[Relation]:
        found: list[Relation] = []
        async for page in self._pages("/users/relations", "listing relations"):
            older = False
            for item in page:
                pid = item.get("member_id") or item.get("provider_id")
                if not pid:
                    continue
                at = parse_time(item.get("created_at"))
                if since is not None and at is not None and at < since:
                    older = True  # newest first: the rest is older still
                    break
                found.append(Relation(str(pid), item.get("public_identifier"), at))
            if older:
                break
        return found

    async def inbound_messages_since(self, since: datetime | None) -> list[InboundMessage]:
        after = _iso(since) if since is not None else None
        found: list[InboundMessage] = []
        chats = []
        async for page in self._pages("/chats", "listing chats", after=after):
            chats.extend(page)
        for chat in chats:
            chat_id = chat.get("id")
            if not chat_id:
                continue
            async for page in self._pages(f"/chats/{chat_id}/messages", "reading a chat", after=after):
                for m in page:
                    if m.get("is_sender") in (1, True) or not m.get("id"):
                        continue
                    at = parse_time(m.get("timestamp"))
                    if at is None or (since is not None and at < since):
                        continue
                    found.append(InboundMessage(
                        chat_id=str(chat_id), message_id=str(m["id"]),
                        sender_provider_id=str(m.get("sender_id") or chat.get("attendee_provider_id") or ""),
                        text=m.get("text") or "", sent_at=at,
                        attachments=tuple(str(a.get("file_name") or a.get("type") or "")
                                          for a in m.get("attachments") or [] if isinstance(a, dict)),
                    ))
        found.sort(key=lambda m: m.sent_at)
        return found

    async def inmail_credits(self) -> int | None:
        body = await self._get("/linkedin/inmail_balance", "reading InMail credits")
        if not isinstance(body, dict):
            return None
        values = [v for k, v in body.items() if k in ("premium", "recruiter", "sales_navigator")
                  and isinstance(v, int)]
        return sum(values) if values else None

    # -- post reaction ------------------------------------------------------

    async def react_to_last_post(self, lead: LeadRef, reaction: Reaction | None) -> PostReaction:
        pid = await self._provider_id(lead)
        posts = _items(await self._get(f"/users/{pid}/posts", "listing posts", limit=1))
        if not posts:
            return PostReaction(None, None)
        post = max(posts, key=lambda p: parse_time(p.get("parsed_datetime") or p.get("date"))
                   or datetime.min.replace(tzinfo=timezone.utc))
        post_id = str(post.get("social_id") or post.get("id"))
        if reaction is None:
            reaction = await self._most_reacted(post_id)
        await self.http.call("POST", "/posts/reaction", action="reacting to a post", idempotent=True,
                             json={"account_id": self.account_id, "post_id": post_id,
                                   "reaction_type": reaction.value})
        return PostReaction(post_id, reaction)

    async def _most_reacted(self, post_id: str) -> Reaction:
        """The reaction type the post received most; ties and no reactions → like."""
        counts: Counter[str] = Counter()
        async for page in self._pages(f"/posts/{post_id}/reactions", "listing reactions"):
            for r in page:
                counts[str(r.get("value") or r.get("reaction_type") or "").lower()] += 1
        known = [(n, kind) for kind, n in counts.items() if kind in {r.value for r in Reaction}]
        if not known:
            return Reaction.LIKE
        # Most used first; on a tie, the first in LinkedIn's order (like, celebrate, …).
        order = [r.value for r in Reaction]
        known.sort(key=lambda t: (-t[0], order.index(t[1])))
        return Reaction(known[0][1])

    # -- invitations -------------------------------------------------------

    async def _find_invitation(self, pid: str) -> InvitationSent | None:
        for inv in await self.sent_invitations():
            if inv.provider_id == pid:
                return InvitationSent(inv.invitation_id, pid, reconciled=True)
        profile = await self.profile(LeadRef(provider_id=pid))
        if profile.is_connection or profile.pending_invitation:
            return InvitationSent(None, pid, reconciled=True)
        return None

    async def send_invitation(self, lead: LeadRef, note: str | None, key: SendKey) -> InvitationSent:
        note = check_note(note)
        pid = await self._provider_id(lead)
        payload = {"provider_id": pid, "account_id": self.account_id}
        if note:
            payload["message"] = note

        async def lookup():
            return await self._find_invitation(pid)

        async def send():
            body = await self.http.call("POST", "/users/invite", json=payload,
                                        action="the invitation", idempotent=False)
            inv_id = body.get("invitation_id") if isinstance(body, dict) else None
            return InvitationSent(str(inv_id) if inv_id else None, pid)

        return await self._exactly_once(key.resumed, lookup, send)

    async def withdraw_invitation(self, invitation_id: str) -> None:
        try:
            await self.http.call("DELETE", f"/users/invite/sent/{invitation_id}",
                                 params=self._params(), action="the withdrawal", idempotent=True)
        except LeadUnreachable as exc:
            if exc.status != 404:
                raise  # 404: already withdrawn, accepted or declined — nothing pending

    # -- messages ------------------------------------------------------------

    async def _exactly_once(self, resumed: bool, lookup, send):
        """Send once: look up first when a previous outcome is unknown; after a
        lost answer, back off, look up, and only then try again."""
        attempt = 0
        check_first = resumed
        while True:
            attempt += 1
            if check_first:
                try:
                    found = await lookup()
                except (GatewayUnavailable, MaybeApplied) as exc:
                    raise OutcomeUnknown(
                        f"could not check whether the previous attempt went through ({exc}); "
                        "will check again before any resend", code="lookup_failed",
                    ) from None
                if found is not None:
                    return found
            try:
                return await send()
            except MaybeApplied as exc:
                if attempt >= self.policy.attempts:
                    raise OutcomeUnknown(
                        f"{exc}; after {attempt} attempts it is unknown whether it went through",
                        code="outcome_unknown",
                    ) from None
                hint = exc.cause.retry_after if exc.cause is not None else None
                await self._sleep(self.policy.backoff(attempt, hint))
                check_first = True

    async def _our_messages_since(self, chats: list[dict], since: datetime) -> list[dict]:
        """Our messages in any chat with the lead since `since` (minus skew), oldest first."""
        after = _iso(since - LOOKUP_SKEW)
        mine = []
        for chat in chats:
            if not chat.get("id"):
                continue
            async for page in self._pages(f"/chats/{chat['id']}/messages", "reading a chat", after=after):
                mine.extend(m for m in page if m.get("is_sender") in (1, True))
        mine.sort(key=lambda m: parse_time(m.get("timestamp")) or since)
        return mine

    @staticmethod
    def _pick_chat(chats: list[dict], inmail: bool) -> str | None:
        """The chat a regular message continues (never an InMail thread); InMails start their own."""
        if inmail:
            return None
        for chat in chats:
            if chat.get("id") and str(chat.get("content_type") or "").lower() != "inmail":
                return str(chat["id"])
        return None

    async def _deliver(
        self,
        pid: str,
        parts: list[dict],
        key: SendKey,
        *,
        matches: Callable[[dict, dict], bool],
        action: str,
        inmail: bool = False,
    ) -> MessageSent:
        """Send `parts` (each {"text":…, "files":…, "extra":…}) one after another
        in the lead's chat, skipping parts a look-up finds already sent."""
        chat_id: str | None = None
        ids: list[str] = []
        reconciled = False
        done = 0
        check_first = key.resumed
        attempt = 0
        sent_now = 0
        if not key.resumed:
            chat_id = self._pick_chat(await self._chats_with(pid), inmail)
        while done < len(parts):
            if check_first:
                try:
                    chats = await self._chats_with(pid)
                    chat_id = self._pick_chat(chats, inmail) or chat_id
                    sent = await self._our_messages_since(chats, key.first_attempt_at)
                except (GatewayUnavailable, MaybeApplied) as exc:
                    raise OutcomeUnknown(
                        f"could not check which parts were already sent ({exc})", code="lookup_failed",
                    ) from None
                # Parts go out in order, so the ones found form a prefix.
                found = 0
                for m in sent:
                    if found < len(parts) and matches(parts[found], m):
                        if found >= len(ids):
                            ids.append(str(m.get("id")))
                        found += 1
                if found > done:
                    reconciled = True
                    done = found
                check_first = False
                if done >= len(parts):
                    break
            part = parts[done]
            try:
                if sent_now > 0:
                    await self._sleep(self.policy.chunk_pause)  # like typing the next line
                msg_id, chat_id = await self._post_part(pid, chat_id, part, action, inmail)
            except MaybeApplied as exc:
                attempt += 1
                if attempt >= self.policy.attempts:
                    raise OutcomeUnknown(
                        f"{exc}; after {attempt} attempts it is unknown whether part {done + 1} "
                        f"of {len(parts)} went through", code="outcome_unknown",
                    ) from None
                hint = exc.cause.retry_after if exc.cause is not None else None
                await self._sleep(self.policy.backoff(attempt, hint))
                check_first = True
                continue
            ids.append(msg_id)
            done += 1
            sent_now += 1
        return MessageSent(chat_id=chat_id, provider_id=pid, message_ids=tuple(ids), reconciled=reconciled)

    async def _post_part(self, pid: str, chat_id: str | None, part: dict, action: str,
                         inmail: bool) -> tuple[str, str]:
        fields: list[tuple[str, Any]] = []
        if part.get("text"):
            fields.append(("text", (None, part["text"])))
        for name, value in part.get("extra", {}).items():
            fields.append((name, (None, value)))
        for name, att in part.get("files", []):
            fields.append((name, (att.filename, att.content, att.content_type)))
        if chat_id and not inmail:
            body = await self.http.call("POST", f"/chats/{chat_id}/messages", files=fields,
                                        action=action, idempotent=False)
            return str((body or {}).get("message_id") or ""), chat_id
        fields = [("account_id", (None, self.account_id)), ("attendees_ids", (None, pid))] + fields
        body = await self.http.call("POST", "/chats", files=fields, action=action, idempotent=False)
        body = body or {}
        return str(body.get("message_id") or ""), str(body.get("chat_id") or chat_id or "")

    @staticmethod
    def _text_matches(part: dict, message: dict) -> bool:
        return (message.get("text") or "").strip() == (part.get("text") or "").strip()

    @staticmethod
    def _file_matches(part: dict, message: dict) -> bool:
        names = {str(a.get("file_name") or "") for a in message.get("attachments") or []
                 if isinstance(a, dict)}
        wanted = {att.filename for _, att in part.get("files", [])}
        return wanted <= names and (message.get("text") or "").strip() == (part.get("text") or "").strip()

    async def send_message(self, lead: LeadRef, chunks: Sequence[str], key: SendKey) -> MessageSent:
        kept = check_message(chunks)
        pid = await self._provider_id(lead)
        parts = [{"text": c} for c in kept]
        return await self._deliver(pid, parts, key, matches=self._text_matches, action="the message")

    async def send_inmail(self, lead: LeadRef, subject: str, body: str, key: SendKey) -> MessageSent:
        subject, body = check_inmail(subject, body)
        pid = await self._provider_id(lead)
        part = {"text": body, "extra": {"subject": subject, "linkedin[api]": "classic",
                                        "linkedin[inmail]": "true"}}
        sent = await self._deliver(pid, [part], key, matches=self._text_matches,
                                   action="the InMail", inmail=True)
        try:
            credits = await self.inmail_credits()
        except LinkedInError:
            credits = None  # the InMail went out; the balance is a nicety
        return MessageSent(sent.chat_id, sent.provider_id, sent.message_ids, sent.reconciled, credits)

    async def send_attachment(self, lead: LeadRef, text: str | None, attachment: Attachment,
                              key: SendKey) -> MessageSent:
        if text is not None and text.strip():
            check_message([text])
        if not attachment.content:
            raise InvalidAction("the attachment file is empty", code="empty_attachment",
                                  substatus=Substatus.EMPTY_MESSAGE)
        pid = await self._provider_id(lead)
        part = {"text": (text or "").strip(), "files": [("attachments", attachment)]}
        return await self._deliver(pid, [part], key, matches=self._file_matches, action="the attachment")

    async def send_voice_message(self, lead: LeadRef, voice: Attachment, key: SendKey) -> MessageSent:
        if not voice.content:
            raise InvalidAction("the voice message file is empty", code="empty_voice",
                                  substatus=Substatus.EMPTY_MESSAGE)
        pid = await self._provider_id(lead)
        part = {"text": "", "files": [("voice_message", voice)]}
        return await self._deliver(pid, [part], key, matches=self._file_matches,
                                   action="the voice message")
