"""A Unipile-style LinkedIn gateway of our own, for tests: a real HTTP server.

Run as its own process (`python -m tests.support.gateway_server`), it binds
127.0.0.1 on a free port, prints `PORT <n>` and serves until SIGTERM. The
fixture `gateway` starts one per test module and stops it by PID; each test
starts from `reset`.

It keeps a small LinkedIn world per account (members, posts, invitations,
relations, chats, withdrawals) and follows the contract of
`notes/linkedin-gateway.md` — same paths, bodies and error types — plus the
LinkedIn rules the driver must cope with (one pending invitation per person,
no new invitation within 3 weeks of a withdrawal, InMail credits, a weekly
invitation cap).

Test control (never used by enginy itself), under `/_control/`:
- `POST reset` {accounts: [...], members: [...], now}: a fresh world.
- `POST script` {rules: [...]}: scripted behaviours, each rule
  {"method", "path" (regex), "skip": K, "times": N, and one of
   "respond": {"status", "body", "headers"}   — answer without applying,
   "delay": s                                 — real seconds before handling,
   "after": "drop" | {"delay": s}             — apply, then lose the answer}.
- `POST account` {account_id, status|premium|inmail_credits|…}: change an account
  (status DISCONNECTED → every call 401; RESTRICTED → 403).
- `POST member` {provider_id, …}: change a member (e.g. accept_after_polls).
- `POST inbound` {account_id, provider_id, text}: the member writes to the identity.
- `GET requests`, `GET state`: everything received and the world, for assertions.

Members' scripted behaviour: `accept_after_polls: N` — an invitation to them
is accepted after N polls (GET /users/relations or /users/invite/sent);
`reply: {"text", "after_polls"}` — they answer our first message after that
many GET /chats polls; `invitable: false` — 422 cannot_invite_attendee.

Time: a request header `X-Contract-Now` (ISO) sets the server's "now" (tests
send their simulated clock through an httpx transport); otherwise the time
set by `reset`. Items created within one "now" get 1 ms steps so they order.
"""

from __future__ import annotations

import argparse
import copy
import email.parser
import email.policy
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.orphans import kill_guarded, spawn_guarded

DEFAULT_NOW = "2026-03-02T09:00:00+00:00"
COOLDOWN = timedelta(weeks=3)


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


class World:
    """The gateway's state. All access under `lock`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset({})

    def reset(self, spec: dict) -> None:
        self.now = _parse(spec.get("now") or DEFAULT_NOW)
        self.tick = 0
        self.ids = itertools.count(1)
        self.requests: list[dict] = []
        self.rules: list[dict] = []
        self.accounts: dict[str, dict] = {}
        for a in spec.get("accounts", []):
            acc = {"status": "OK", "premium": False, "sales_navigator": False, "inmail_credits": 0,
                   "weekly_invite_limit": 100, "public_identifier": None, "first_name": "Ida",
                   "last_name": "Entity", "occupation": "", "credentials": None, **a}
            acc.update(invitations={}, relations={}, withdrawn={}, chats={}, reactions=[],
                       visits=[], polls=0, chat_polls=0)
            self.accounts[acc["account_id"]] = acc
        self.members: dict[str, dict] = {}
        for m in spec.get("members", []):
            self.members[m["provider_id"]] = {"public_identifier": None, "first_name": "", "last_name": "",
                                              "headline": "", "posts": [], "invitable": True,
                                              "accept_after_polls": None, "reply": None, **m}
        self.pending_logins: dict[str, dict] = {}
        self.logins: dict[str, dict] = {l["username"]: l for l in spec.get("logins", [])}

    def stamp(self, now: datetime) -> datetime:
        """`now` plus a 1 ms step per item created, so items order within one instant."""
        self.tick += 1
        return now + timedelta(milliseconds=self.tick)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids)}"


WORLD = World()


class ApiError(Exception):
    def __init__(self, status: int, kind: str, detail: str = "", headers: dict | None = None):
        super().__init__(detail)
        self.status, self.kind, self.detail, self.headers = status, kind, detail, headers or {}


def _body_error(e: ApiError) -> dict:
    return {"status": e.status, "type": f"errors/{e.kind}", "title": e.kind.replace("_", " "),
            "detail": e.detail}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ContractGateway/1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    # -- plumbing ---------------------------------------------------------

    def _read_body(self) -> tuple[dict, list[dict]]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type") or ""
        if not raw:
            return {}, []
        if ctype.startswith("application/json"):
            return json.loads(raw), []
        if ctype.startswith("multipart/form-data"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
            fields, files = {}, []
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True) or b""
                if filename is not None:
                    files.append({"field": name, "file_name": filename, "size": len(payload),
                                  "mimetype": part.get_content_type()})
                else:
                    fields[name] = payload.decode()
            return fields, files
        if ctype.startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(raw.decode()).items()}, []
        return {}, []

    def _send(self, status: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _drop(self) -> None:
        """Lose the answer: close the connection without a response."""
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def do_GET(self): self._handle("GET")
    def do_POST(self): self._handle("POST")
    def do_DELETE(self): self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body, files = self._read_body()
        if path.startswith("/_control/"):
            with WORLD.lock:
                status, out = control(method, path[len("/_control/"):], body)
            return self._send(status, out)
        w = WORLD
        with w.lock:
            now = _parse(self.headers["X-Contract-Now"]) if self.headers.get("X-Contract-Now") else w.now
            if now > w.now:
                w.now, w.tick = now, 0
            record = {"n": len(w.requests) + 1, "method": method, "path": path, "query": query,
                      "body": {k: v for k, v in body.items() if k != "password"} if isinstance(body, dict) else body,
                      "files": files, "at": _iso(w.now), "key_ok": None}
            w.requests.append(record)
            rule = match_rule(method, path)
        if rule is not None and rule.get("delay"):
            time.sleep(float(rule["delay"]))
        if rule is not None and "respond" in rule:
            r = rule["respond"]
            record["outcome"] = f"scripted {r.get('status', 500)}"
            return self._send(int(r.get("status", 500)), r.get("body"), r.get("headers"))
        try:
            with w.lock:
                status, out = route(method, path, query, body, files, self.headers.get("X-API-KEY"), record)
        except ApiError as e:
            record["outcome"] = f"{e.status} {e.kind}"
            return self._send(e.status, _body_error(e), e.headers)
        record["outcome"] = f"{status}"
        after = rule.get("after") if rule is not None else None
        if after == "drop":
            record["outcome"] += " (answer dropped)"
            return self._drop()
        if isinstance(after, dict) and after.get("delay"):
            record["outcome"] += " (answer delayed)"
            time.sleep(float(after["delay"]))
        try:
            self._send(status, out)
        except OSError:
            pass


def match_rule(method: str, path: str) -> dict | None:
    for rule in WORLD.rules:
        if rule.get("method", method) != method or not re.fullmatch(rule.get("path", ".*"), path):
            continue
        rule["seen"] = rule.get("seen", 0) + 1
        if rule["seen"] <= rule.get("skip", 0):
            continue
        if rule.get("used", 0) >= rule.get("times", 1):
            continue
        rule["used"] = rule.get("used", 0) + 1
        return rule
    return None


# --------------------------------------------------------------------------
# control


def control(method: str, what: str, body: dict):
    w = WORLD
    if what == "reset":
        w.reset(body)
        return 200, {"ok": True}
    if what == "script":
        w.rules.extend(copy.deepcopy(body.get("rules", [])))
        return 200, {"ok": True}
    if what == "requests":
        return 200, {"items": w.requests}
    if what == "state":
        return 200, {"now": _iso(w.now), "accounts": w.accounts, "members": w.members}
    if what == "account":
        w.accounts[body["account_id"]].update({k: v for k, v in body.items() if k != "account_id"})
        return 200, {"ok": True}
    if what == "member":
        w.members[body["provider_id"]].update(body)
        return 200, {"ok": True}
    if what == "inbound":
        acc = w.accounts[body["account_id"]]
        if body.get("now"):
            w.now = max(w.now, _parse(body["now"]))
        chat = _chat_for(acc, body["provider_id"], create=True)
        _add_message(chat, sender=body["provider_id"], text=body["text"], now=w.now)
        return 200, {"ok": True, "chat_id": chat["id"]}
    if what == "clock":
        w.now = _parse(body["now"])
        return 200, {"ok": True}
    return 404, {"error": "unknown control"}


# --------------------------------------------------------------------------
# the contract


def _account(query: dict, body: dict, api_key: str | None, record: dict) -> dict:
    account_id = query.get("account_id") or (body.get("account_id") if isinstance(body, dict) else None)
    chat = re.match(r"/api/v1/chats/([^/]+)", record["path"])
    if chat and not account_id:  # a chat id names its account, as in Unipile
        account_id = next((a["account_id"] for a in WORLD.accounts.values() if chat.group(1) in a["chats"]), None)
    acc = WORLD.accounts.get(account_id or "")
    if acc is None:
        raise ApiError(404, "account_not_found" if account_id else "invalid_parameters",
                       "unknown account_id" if account_id else "account_id is required")
    record["key_ok"] = api_key == acc["api_key"]
    if not record["key_ok"]:
        raise ApiError(401, "missing_credentials", "invalid API key")
    if acc["status"] == "DISCONNECTED":
        raise ApiError(401, "disconnected_account", "the account must be reconnected")
    if acc["status"] == "RESTRICTED":
        raise ApiError(403, "account_restricted", "LinkedIn restricted this account")
    return acc


def _member(identifier: str) -> dict:
    m = WORLD.members.get(identifier)
    if m is None:
        m = next((m for m in WORLD.members.values() if m.get("public_identifier") == identifier), None)
    if m is None:
        raise ApiError(404, "resource_not_found", f"no user {identifier}")
    return m


def _profile(acc: dict, m: dict) -> dict:
    pid = m["provider_id"]
    pending = any(i["provider_id"] == pid for i in acc["invitations"].values())
    distance = "FIRST_DEGREE" if pid in acc["relations"] else m.get("network_distance", "SECOND_DEGREE")
    out = {"object": "UserProfile", "provider": "LINKEDIN", "provider_id": pid,
           "public_identifier": m["public_identifier"], "first_name": m["first_name"],
           "last_name": m["last_name"], "headline": m["headline"], "network_distance": distance,
           "is_relationship": pid in acc["relations"]}
    if pending:
        out["invitation"] = {"type": "SENT", "status": "PENDING"}
    return out


def _poll(acc: dict) -> None:
    """One evaluation poll: members with accept_after_polls accept when due."""
    acc["polls"] += 1
    for inv_id, inv in list(acc["invitations"].items()):
        m = WORLD.members.get(inv["provider_id"], {})
        n = m.get("accept_after_polls")
        if n is not None and acc["polls"] - inv["polls_at_send"] >= n:
            del acc["invitations"][inv_id]
            acc["relations"][inv["provider_id"]] = _iso(WORLD.stamp(WORLD.now))


def _chat_for(acc: dict, pid: str, create: bool, inmail: bool = False) -> dict | None:
    for chat in acc["chats"].values():
        if chat["attendee_provider_id"] == pid and (chat["content_type"] == "inmail") == inmail:
            return chat
    if not create:
        return None
    chat = {"id": WORLD.new_id("chat_"), "attendee_provider_id": pid, "messages": [],
            "content_type": "inmail" if inmail else None, "timestamp": _iso(WORLD.now), "replied": False}
    acc["chats"][chat["id"]] = chat
    return chat


def _add_message(chat: dict, *, sender: str, text: str, now: datetime, is_sender: int = 0,
                 attachments: list | None = None, subject: str | None = None) -> dict:
    msg = {"object": "Message", "id": WORLD.new_id("msg_"), "chat_id": chat["id"], "sender_id": sender,
           "text": text, "timestamp": _iso(WORLD.stamp(now)), "is_sender": is_sender,
           "attachments": attachments or [], "subject": subject}
    chat["messages"].append(msg)
    chat["timestamp"] = msg["timestamp"]
    return msg


def _page(items: list, query: dict) -> dict:
    limit = int(query.get("limit") or 100)
    start = int(query.get("cursor") or 0)
    chunk = items[start:start + limit]
    nxt = start + limit if start + limit < len(items) else None
    return {"object": "List", "items": chunk, "cursor": str(nxt) if nxt is not None else None}


def _after(items: list, query: dict, field: str = "timestamp") -> list:
    if not query.get("after"):
        return items
    after = _parse(query["after"])
    return [i for i in items if _parse(i[field]) >= after]


def route(method: str, path: str, q: dict, body: dict, files: list, key: str | None, record: dict):
    w = WORLD
    now = w.now
    p = path.removeprefix("/api/v1")

    # Linking accounts (no account_id yet): credentials, then a code if asked.
    if method == "POST" and p == "/accounts":
        login = w.logins.get(body.get("username", ""))
        if body.get("provider") != "LINKEDIN":
            raise ApiError(400, "invalid_parameters", "provider must be LINKEDIN")
        if login is None or login["password"] != body.get("password") or key != login["api_key"]:
            raise ApiError(401, "invalid_credentials", "wrong username or password")
        account_id = login["account_id"]
        if login.get("code"):
            w.pending_logins[account_id] = login
            return 202, {"object": "Checkpoint", "account_id": account_id,
                         "checkpoint": {"type": login.get("checkpoint", "2FA")}}
        return 201, {"object": "AccountCreated", "account_id": account_id}
    if method == "POST" and p == "/accounts/checkpoint":
        login = w.pending_logins.get(body.get("account_id", ""))
        if login is None or key != login["api_key"]:
            raise ApiError(404, "account_not_found", "no pending checkpoint")
        if body.get("code") != login["code"]:
            raise ApiError(400, "invalid_checkpoint_solution", "wrong code")
        del w.pending_logins[body["account_id"]]
        return 201, {"object": "AccountCreated", "account_id": login["account_id"]}

    acc = _account(q, body, key, record)
    pid_me = acc["provider_id"]

    if method == "GET" and p == "/users/me":
        return 200, {"object": "AccountOwnerProfile", "provider": "LINKEDIN", "provider_id": pid_me,
                     "public_identifier": acc["public_identifier"], "first_name": acc["first_name"],
                     "last_name": acc["last_name"], "occupation": acc["occupation"],
                     "premium": acc["premium"], "sales_navigator": acc["sales_navigator"]}
    if method == "GET" and p == "/users/relations":
        _poll(acc)
        items = [{"object": "UserRelation", "member_id": pid, "created_at": at,
                  "public_identifier": w.members.get(pid, {}).get("public_identifier")}
                 for pid, at in sorted(acc["relations"].items(), key=lambda kv: kv[1], reverse=True)]
        return 200, _page(items, q)
    if method == "GET" and p == "/users/invite/sent":
        _poll(acc)
        items = [{"object": "UserInvitation", "id": inv_id, "invited_user_id": inv["provider_id"],
                  "invited_user_public_id": w.members.get(inv["provider_id"], {}).get("public_identifier"),
                  "parsed_datetime": inv["date"], "date": inv["date"], "invitation_text": inv["text"]}
                 for inv_id, inv in acc["invitations"].items()]
        return 200, _page(items, q)
    m = re.fullmatch(r"/users/invite/sent/([^/]+)", p)
    if method == "DELETE" and m:
        inv = acc["invitations"].pop(m.group(1), None)
        if inv is None:
            raise ApiError(404, "resource_not_found", "no such pending invitation")
        acc["withdrawn"][inv["provider_id"]] = _iso(now)
        return 200, {"object": "UserInvitationCancelled"}
    if method == "POST" and p == "/users/invite":
        target = _member(body.get("provider_id", ""))
        pid = target["provider_id"]
        note = body.get("message") or None
        if note is not None and len(note) > 300:
            raise ApiError(422, "invalid_parameters", "message too long")
        if not target["invitable"]:
            raise ApiError(422, "cannot_invite_attendee", "cannot invite this user")
        if pid in acc["relations"] or any(i["provider_id"] == pid for i in acc["invitations"].values()):
            raise ApiError(422, "already_invited_recently", "already invited or connected")
        withdrawn = acc["withdrawn"].get(pid)
        if withdrawn and now < _parse(withdrawn) + COOLDOWN:
            raise ApiError(422, "cannot_resend_yet", "withdrawn less than 3 weeks ago")
        week_ago = now - timedelta(days=7)
        sent_week = sum(1 for r in w.requests if r.get("outcome", "").startswith("201")
                        and r["path"].endswith("/users/invite") and _parse(r["at"]) >= week_ago)
        if sent_week >= acc["weekly_invite_limit"]:
            raise ApiError(422, "limit_exceeded", "weekly invitation limit")
        inv_id = w.new_id("inv_")
        acc["invitations"][inv_id] = {"provider_id": pid, "date": _iso(w.stamp(now)), "text": note,
                                      "polls_at_send": acc["polls"]}
        return 201, {"object": "UserInvitationSent", "invitation_id": inv_id, "usage": None}
    m = re.fullmatch(r"/users/([^/]+)/posts", p)
    if method == "GET" and m:
        target = _member(m.group(1))
        posts = sorted(target["posts"], key=lambda x: x["date"], reverse=True)
        return 200, _page([{"object": "Post", "id": x["social_id"], "social_id": x["social_id"],
                            "parsed_datetime": x["date"], "date": x["date"]} for x in posts], q)
    m = re.fullmatch(r"/users/([^/]+)", p)
    if method == "GET" and m:
        target = _member(m.group(1))
        if q.get("notify") == "true":
            acc["visits"].append({"provider_id": target["provider_id"], "at": _iso(now)})
        return 200, _profile(acc, target)
    m = re.fullmatch(r"/posts/([^/]+)/reactions", p)
    if method == "GET" and m:
        post = next((x for mm in w.members.values() for x in mm["posts"] if x["social_id"] == m.group(1)), None)
        if post is None:
            raise ApiError(404, "resource_not_found", "no such post")
        items = [{"object": "PostReaction", "value": kind.upper()}
                 for kind, n in post.get("reactions", {}).items() for _ in range(n)]
        return 200, _page(items, q)
    if method == "POST" and p == "/posts/reaction":
        post = next((x for mm in w.members.values() for x in mm["posts"]
                     if x["social_id"] == body.get("post_id")), None)
        if post is None:
            raise ApiError(404, "resource_not_found", "no such post")
        kind = body.get("reaction_type")
        if kind not in ("like", "celebrate", "support", "love", "insightful", "funny"):
            raise ApiError(400, "invalid_parameters", "unknown reaction_type")
        acc["reactions"] = [r for r in acc["reactions"] if r["post_id"] != post["social_id"]]
        acc["reactions"].append({"post_id": post["social_id"], "reaction": kind, "at": _iso(now)})
        return 201, {"object": "ReactionAdded"}
    m = re.fullmatch(r"/chat_attendees/([^/]+)/chats", p)
    if method == "GET" and m:
        items = [_chat_out(c) for c in acc["chats"].values() if c["attendee_provider_id"] == m.group(1)]
        return 200, _page(items, q)
    if method == "GET" and p == "/chats":
        acc["chat_polls"] += 1
        _deliver_replies(acc)
        chats = sorted(acc["chats"].values(), key=lambda c: c["timestamp"], reverse=True)
        return 200, _page(_after([_chat_out(c) for c in chats], q), q)
    m = re.fullmatch(r"/chats/([^/]+)/messages", p)
    if m and method == "GET":
        chat = acc["chats"].get(m.group(1))
        if chat is None:
            raise ApiError(404, "resource_not_found", "no such chat")
        msgs = sorted(chat["messages"], key=lambda x: x["timestamp"], reverse=True)
        return 200, _page(_after(msgs, q), q)
    if m and method == "POST":
        chat = acc["chats"].get(m.group(1))
        if chat is None:
            raise ApiError(404, "resource_not_found", "no such chat")
        msg = _post_message(acc, chat, body, files, now)
        return 201, {"object": "MessageSent", "message_id": msg["id"]}
    if method == "POST" and p == "/chats":
        target = _member(body.get("attendees_ids", ""))
        pid = target["provider_id"]
        inmail = body.get("linkedin[inmail]") == "true"
        if inmail:
            if not (acc["premium"] or acc["sales_navigator"]):
                raise ApiError(422, "not_allowed_inmail", "InMail needs Premium")
            if acc["inmail_credits"] <= 0:
                raise ApiError(422, "insufficient_credits", "no InMail credits")
            acc["inmail_credits"] -= 1
        elif pid not in acc["relations"]:
            raise ApiError(422, "no_connection_with_recipient", "not a 1st-degree connection")
        chat = _chat_for(acc, pid, create=True, inmail=inmail)
        msg = _post_message(acc, chat, body, files, now)
        return 201, {"object": "ChatStarted", "chat_id": chat["id"], "message_id": msg["id"]}
    if method == "GET" and p == "/linkedin/inmail_balance":
        return 200, {"object": "InMailBalance", "premium": acc["inmail_credits"],
                     "recruiter": None, "sales_navigator": None}
    raise ApiError(404, "not_found", f"no route {method} {p}")


def _chat_out(c: dict) -> dict:
    return {"object": "Chat", "id": c["id"], "attendee_provider_id": c["attendee_provider_id"],
            "timestamp": c["timestamp"], "content_type": c["content_type"], "type": 0}


def _post_message(acc: dict, chat: dict, body: dict, files: list, now: datetime) -> dict:
    attachments = [{"type": "audio" if f["field"] == "voice_message" else "file",
                    "file_name": f["file_name"], "file_size": f["size"], "mimetype": f["mimetype"]}
                   for f in files]
    if not body.get("text") and not attachments:
        raise ApiError(400, "invalid_parameters", "text or attachment required")
    return _add_message(chat, sender=acc["provider_id"], text=body.get("text", ""), now=now, is_sender=1,
                        attachments=attachments, subject=body.get("subject"))


def _deliver_replies(acc: dict) -> None:
    """Members with a scripted reply answer once our first message is `after_polls` polls old."""
    for chat in acc["chats"].values():
        m = WORLD.members.get(chat["attendee_provider_id"], {})
        reply = m.get("reply")
        if not reply or chat["replied"] or not any(x["is_sender"] for x in chat["messages"]):
            continue
        chat.setdefault("polls_since_ours", 0)
        chat["polls_since_ours"] += 1
        if chat["polls_since_ours"] > reply.get("after_polls", 0):
            chat["replied"] = True
            _add_message(chat, sender=chat["attendee_provider_id"], text=reply["text"], now=WORLD.now)


# --------------------------------------------------------------------------
# process entry point and the pytest side


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


class ContractGateway:
    """The test's handle on a running contract server (control calls are sync)."""

    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        import httpx

        self.proc, self.port = proc, port
        self.url = f"http://127.0.0.1:{port}"
        self._http = httpx.Client(base_url=self.url, timeout=10)

    def control(self, what: str, body: dict | None = None, method: str = "POST") -> dict:
        r = self._http.request(method, f"/_control/{what}", json=body if method == "POST" else None)
        r.raise_for_status()
        return r.json()

    def reset(self, **spec) -> None:
        self.control("reset", spec)

    def script(self, *rules: dict) -> None:
        self.control("script", {"rules": list(rules)})

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict]:
        items = self.control("requests", method="GET")["items"]
        return [r for r in items if (method is None or r["method"] == method)
                and (path is None or re.fullmatch(path, r["path"]))]

    def state(self) -> dict:
        return self.control("state", method="GET")

    def stop(self) -> None:
        self._http.close()
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                kill_guarded(self.proc)
        self.proc.stdin.close()
        self.proc.stdout.close()


def start_gateway() -> ContractGateway:
    """Start the contract server in its own process on a free loopback port."""
    root = Path(__file__).resolve().parents[2]
    proc = spawn_guarded([sys.executable, "-m", "tests.support.gateway_server"], cwd=root,
                         stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("PORT "):
        kill_guarded(proc)
        proc.stdin.close()
        raise RuntimeError(f"contract gateway did not start: {line!r}")
    return ContractGateway(proc, int(line.split()[1]))


if __name__ == "__main__":
    main()
