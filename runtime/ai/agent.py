"""The AI agent in the runtime: tags each new reply, answers it in automatic campaigns, serves the app's asks.

One Trio task beside the actors (started by `Runtime.run` when the runtime has
a workspace; simulations have none and never ask an AI). A round:

1. files the lead's messages recorded since the cursor (storage/reply_agent.py);
2. for each one due: when an AI is configured, asks it for the reply's tag
   after the rules (runtime/reply_tags.py ran when it was recorded) — it adds
   an outcome only where the rules found none, and an answer outside the
   fixed set is ignored; then, when the conversation's campaign handles
   replies automatically, asks for the answer and queues it through
   storage/replies.py (outbox, caps, working hours, once per message) —
   never to a reply tagged Unsubscribe, Not interested or Out of office
   (`sequences.conversation_tags.NEVER_ANSWER`);
3. answers the app's requests (a copilot suggestion, a wizard simulation).

Every AI call runs in a worker thread outside any transaction. A failure is
the message's note (retried a few times when it may help); an unexpected error
in one conversation is noted there and logged, and every other goes on.
It wakes when an inbound effect was applied (`Runtime.after_change`), when
another process committed (the app's requests), and at a retry's time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import trio

from runtime.ai.client import AIClient, AIError
from runtime.ai.provider import NOT_CONFIGURED, configured, endpoint_of
from runtime.ai.replies import ANSWER_MAX_OUTPUT, TAG_MAX_OUTPUT, answer_messages, clean_answer, parse_tag, tag_messages
from sequences.conversation_tags import STANDARD, never_answer
from storage import reply_agent as store
from storage.conversations import set_tags
from storage.faults import storage_error
from storage.workspace import open_workspace

log = logging.getLogger("enginy.runtime")

ANSWERING = ("running", "scheduled")  # a paused or archived campaign sends nothing on its own, answers included
PROGRESS_CHARS = 40  # a streamed answer is shown growing by this much at a time
IDLE = timedelta(minutes=5)  # the longest sleep between rounds when nothing wakes the agent
MISSING_PROMPT = ("Missing campaign prompt: add one in the campaign's AI Agent step (ctrl+e in the campaign view, "
                  "then F4) or `enginy campaigns edit ID --prompt …` — until then answer by hand (r)")


class ReplyAgent:
    def __init__(self, rt) -> None:
        self.rt = rt
        self.db = rt.db
        self._wake = trio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        self.rt.change_hooks.append(self.wake)
        self.rt.inbound_hooks.append(self.wake)
        task_status.started()
        try:
            while True:
                self._wake = trio.Event()
                await self.round()
                now = self.rt.clock.now()
                retry = store.next_retry(self.db)
                until = min(now + IDLE, retry) if retry else now + IDLE
                with trio.move_on_at(self.rt.clock.trio_deadline(until)):
                    await self._wake.wait()
        finally:
            self.rt.change_hooks.remove(self.wake)
            self.rt.inbound_hooks.remove(self.wake)

    def _client(self) -> AIClient | None:
        ws = open_workspace(self.rt.workspace)
        return AIClient(endpoint_of(ws)) if configured(ws) else None

    async def round(self) -> None:
        store.collect(self.db, self.rt.clock.now())
        work = store.due_work(self.db, self.rt.clock.now())
        requests = store.asked(self.db)
        if not work and not requests:
            return
        client = self._client()  # None: no [ai] configured, said on each item
        try:
            for item in work:
                await self._contained(self._handle, item, client, conversation=item.conversation_id)
            for request in requests:
                await self._contained(self._serve, request, client, conversation=request.conversation_id)
        finally:
            if client is not None:
                client.close()

    async def _contained(self, handle, item, client, *, conversation: int | None) -> None:
        try:
            await handle(item, client)
        except Exception as exc:
            if storage_error(exc) is not None:
                raise  # the service waits out a storage fault and starts again
            log.exception("AI agent: conversation %s failed", conversation)
            note = f"System error: {type(exc).__name__}: {exc}"[:300]
            if isinstance(item, store.Work):
                store.settle(self.db, item.message_id, "failed", note, now=self.rt.clock.now())
            else:
                store.answer_request(self.db, item.id, now=self.rt.clock.now(), error=note)

    async def _ask(self, client: AIClient, messages, max_output: int, request_id: int | None = None) -> str:
        """The AI's answer, asked in a worker thread. For an app's request (`request_id`) it is streamed,
        and the answer so far is written on the request row each PROGRESS_CHARS more characters (the
        user watches it fill in; a write per token would be hundreds), from Trio's thread, which owns
        the connection."""
        on_text = None
        if request_id is not None:
            written = [0]

            def on_text(text: str) -> None:
                if len(text) - written[0] >= PROGRESS_CHARS:
                    written[0] = len(text)
                    trio.from_thread.run_sync(store.request_progress, self.db, request_id, text)
        answer = await trio.to_thread.run_sync(lambda: client.complete(messages, max_output=max_output, on_text=on_text),
                                               abandon_on_cancel=True)
        return answer.text

    # -- the lead's messages ------------------------------------------------------------------

    async def _handle(self, item: store.Work, client: AIClient | None) -> None:
        body, subject, tags = store.lead_message(self.db, item.message_id)
        if client is not None and not any(t in STANDARD for t in tags):
            tags = await self._tag(client, item, body, subject, tags)
        now = self.rt.clock.now()
        if item.reply_handling != "auto":
            store.settle(self.db, item.message_id, "done", None, now=now)
            return
        if item.campaign_status not in ANSWERING:
            store.settle(self.db, item.message_id, "skipped",
                         f"not answered automatically: the campaign is {item.campaign_status} (a reply by hand still goes)",
                         now=now)
            return
        stop = never_answer(tags)
        if stop:
            store.settle(self.db, item.message_id, "skipped", f"not answered automatically: tagged {', '.join(stop)}",
                         now=now)
            return
        why = store.why_not_answer(self.db, item.message_id)
        if why is not None:
            store.settle(self.db, item.message_id, "skipped", f"not answered automatically: {why}", now=now)
            return
        if client is None:
            store.settle(self.db, item.message_id, "failed", f"AI reply failed: {NOT_CONFIGURED}", now=now)
            return
        if not item.has_prompt:
            store.settle(self.db, item.message_id, "failed", MISSING_PROMPT, now=now)
            return
        ctx = store.reply_context(self.db, item.conversation_id, up_to=item.message_id)
        try:
            text = clean_answer(await self._ask(client, answer_messages(ctx), ANSWER_MAX_OUTPUT), ctx.channel)
        except AIError as exc:
            state = store.failed_attempt(self.db, item, str(exc), retryable=exc.retryable, now=self.rt.clock.now())
            log.warning("AI agent: no answer to message %s (%s): %s", item.message_id, state, exc)
            return
        key = store.queue_answer(self.db, item.message_id, text, now=self.rt.clock.now())
        if key is not None:
            self._send_soon(item.conversation_id)

    async def _tag(self, client: AIClient, item: store.Work, body: str, subject: str, tags: list[str]) -> list[str]:
        """The AI's outcome tag added where the rules found none; a failure or junk leaves the tags as they are."""
        try:
            tag = parse_tag(await self._ask(client, tag_messages(body, subject), TAG_MAX_OUTPUT))
        except AIError as exc:
            log.info("AI agent: no tag for message %s: %s", item.message_id, exc)
            return tags
        if tag is None:
            return tags
        return set_tags(self.db, item.conversation_id, add=[tag], now=self.rt.clock.now(), by="ai")

    def _send_soon(self, conversation_id: int) -> None:
        """The answer's row was written on this connection (no data_version change): tell the supervisor,
        which runs the identity's actor if no campaign of it runs, and the actor, which files it."""
        supervisor = self.rt.supervisor
        supervisor.sync()
        for actor in supervisor.identities.values():
            actor.pick_up_replies()

    # -- the app's requests -------------------------------------------------------------------

    async def _serve(self, request: store.AIRequest, client: AIClient | None) -> None:
        if client is None:
            store.answer_request(self.db, request.id, now=self.rt.clock.now(), error=NOT_CONFIGURED)
            return
        if request.kind == "suggest":
            ctx = store.reply_context(self.db, request.conversation_id)
        else:
            ctx = store.simulation_context(self.db, request)
        if ctx is None:
            store.answer_request(self.db, request.id, now=self.rt.clock.now(), error="the conversation is gone")
            return
        try:
            text = clean_answer(await self._ask(client, answer_messages(ctx), ANSWER_MAX_OUTPUT, request.id), ctx.channel)
        except AIError as exc:
            store.answer_request(self.db, request.id, now=self.rt.clock.now(), error=str(exc))
            return
        store.answer_request(self.db, request.id, now=self.rt.clock.now(), text=text)


def suggest_now(workspace, db, conversation_id: int) -> str:
    """A suggested reply for the conversation, asked here and now (the CLI's `conversations suggest`).
    AIError (not configured, unreachable …) or LookupError (no such conversation)."""
    ctx = store.reply_context(db, conversation_id)
    if ctx is None:
        raise LookupError(f"no conversation {conversation_id}")
    client = AIClient(endpoint_of(workspace))
    try:
        return clean_answer(client.complete(answer_messages(ctx), max_output=ANSWER_MAX_OUTPUT).text, ctx.channel)
    finally:
        client.close()
