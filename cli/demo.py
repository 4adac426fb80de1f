"""`enginy demo`: a seeded sandbox workspace, its runtime on an accelerated clock, and the TUI.

The demo never touches a real workspace: it keeps its own folder (`enginy-demo`
beside the default workspace in the user data folder — ~/.local/share/enginy-demo
on Linux —, or `--workspace`), marked by a `.enginy-demo` file;
`--reset` deletes and re-seeds only a folder carrying that mark. Seeding goes
through the same storage functions a user's commands use (identities, the
sandbox connection, contact import, campaigns from templates, audiences,
launch/pause/archive), so the demo shows real behaviour, not a mock-up.

The runtime runs as its own process (`enginy run --speed R`, detached, on the
demo clock: `[demo] speed` seconds of campaign time per real second, about
an hour a second by default); quitting the demo stops it by PID, and it
stops by itself when the demo process ends any other way (a closed terminal,
a dropped SSH session: `enginy run --stop-with`). In the demo
`+` / `-` change its speed and `p` pauses / resumes the clock: they write
`demo_speed` / `demo_paused` rows in `runtime_state`, which the runtime's
demo clock polls (campaign pause/resume is `z` everywhere, so `p` is free).
"""

from __future__ import annotations

import csv
import random
import shutil
import signal
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

import typer

from sequences.limits import DEMO_CONTACTS_MAX, speed_problem
from cli.output import UserError
from cli.workspace import chosen_workspace

MARK = ".enginy-demo"
IDENTITIES = (
    ("Lucía Ortega", "Europe/Madrid", "lucia@northwind.example"),
    ("Marcus Reed", "America/New_York", "marcus@northwind.example"),
    ("Mei Tan", "Asia/Singapore", "mei@northwind.example"),
)
# (template, name, identity index, priority, tags, folder, final status)
CAMPAIGNS = (
    ("LinkedIn + Email", "Q4 Fintech CFOs", 0, "high", ["fintech", "q4"], "Q4", "running"),
    ("LinkedIn Only (New)", "Spain SaaS founders", 0, "medium", ["saas"], "EMEA", "running"),
    ("Email Only", "US logistics re-engage", 1, "low", ["logistics"], "US", "running"),
    ("LinkedIn + Email + Call", "NYC fintech heads of sales", 1, "high", ["fintech"], "US", "paused"),
    ("LinkedIn Social Warming", "APAC warm-up", 2, "medium", ["apac"], "APAC", "running"),
    ("Email + Call", "Singapore retail (draft)", 2, "low", ["retail"], "APAC", "draft"),
    ("LinkedIn + Add Voice Message", "Old summer push", 0, "low", ["archive"], "", "archived"),
)
FIRST = ("Ana", "Ben", "Carla", "Dev", "Elif", "Femi", "Goran", "Hana", "Ivan", "Jia", "Kofi", "Lena", "Mateo",
         "Noor", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Vik", "Wen", "Yara", "Zoe")
LAST = ("Silva", "Okafor", "Nguyen", "Müller", "Rossi", "Kowalski", "Haddad", "Tanaka", "Larsen", "Moreau",
        "Costa", "Iyer", "Park", "Novak", "Ahmed", "Berg", "Dubois", "Fischer")
COMPANIES = ("Acme Freight", "Brightpay", "Cobalt Labs", "Delta Ledger", "Evergreen Retail", "Fjord Analytics",
             "Globex", "Helix Health", "Ion Logistics", "Juniper Cloud", "Kite Finance", "Lumen Bank",
             "Mosaic SaaS", "Nimbus AI", "Orbit Shipping", "Pioneer Pay", "Quartz Data", "Riverstone")
TITLES = ("CFO", "Head of Sales", "VP Finance", "Founder", "COO", "Head of Growth", "Sales Director", "CTO")


def demo_dir(chosen: Path | None) -> Path:
    if chosen:
        return Path(chosen).expanduser()
    from storage.workspace import default_workspace_dir

    return default_workspace_dir().parent / "enginy-demo"


def _contacts_csv(path: Path, n: int, rng: random.Random) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(["first_name", "last_name", "company", "job_title", "email", "linkedin_url", "phone"])
        for i in range(n):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = rng.choice(COMPANIES)
            domain = company.lower().replace(" ", "") + ".example"
            w.writerow([first, last, company, rng.choice(TITLES),
                        f"{first.lower()}.{last.lower()}{i}@{domain}" if rng.random() < 0.85 else "",
                        f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}-{i}" if rng.random() < 0.9 else "",
                        f"+34 600 {i:06d}" if rng.random() < 0.4 else ""])


def seed(folder: Path, *, contacts: int = 3000, seed_value: int = 7, now: datetime | None = None) -> None:
    """Create the demo workspace: three identities in three time zones, contacts, seven campaigns."""
    from storage import campaigns as store
    from storage.audience import add_contacts
    from storage.contact_import import import_contacts
    from storage.contacts import get_list, list_member_ids
    from storage.identities import connect_sandbox, create_identity
    from storage.workspace import init_workspace

    from runtime.clock import wall_now

    now = now or wall_now()
    actor = "demo"
    rng = random.Random(seed_value)
    workspace = init_workspace(folder)
    (folder / MARK).write_text("This folder is enginy's demo workspace; `enginy demo --reset` may delete it.\n")
    db = workspace.open_db()
    try:
        identity_ids = []
        for name, tz, email in IDENTITIES:
            first, last = name.split(" ", 1)
            iid = create_identity(db, name, now=now, actor=actor, first_name=first, last_name=last, email=email,
                                  timezone=tz, company="Northwind", job_title="Account Executive")
            connect_sandbox(db, iid, now=now, actor=actor)
            identity_ids.append(iid)
        csv_path = folder / "demo-contacts.csv"
        _contacts_csv(csv_path, contacts, rng)
        import_contacts(db, csv_path, list_name="Demo leads", now=now, created_by=actor)
        ids = list_member_ids(db, get_list(db, "Demo leads").id)
        per = max(len(ids) // len(CAMPAIGNS), 1)
        for i, (template, name, who, priority, tags, folder_name, status) in enumerate(CAMPAIGNS):
            created = now - timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 23))
            cid = store.create_campaign(db, identity=identity_ids[who], now=created, actor=actor, template=template,
                                        name=name, priority=priority, tags=tags, folder=folder_name)
            add_contacts(db, cid, ids[i * per:(i + 1) * per], now=created, actor=actor)
            if status in ("running", "paused", "archived"):
                store.launch_campaign(db, cid, now=created + timedelta(hours=1), actor=actor)
            if status == "paused":
                store.pause_campaign(db, cid, now=now, actor=actor)
            if status == "archived":
                store.archive_campaign(db, cid, now=now, actor=actor)
    finally:
        db.close()


def starting_speed(db, chosen: float | None, default: float) -> float:
    """The demo clock's speed as the demo opens: `--speed` if given, else the speed it was left
    at (+ / - in the app write it to the workspace), else the config's default."""
    from storage.demo_clock import demo_clock

    return chosen or demo_clock(db, default)[0]


def stop_process(pid: int | None) -> None:
    """Stop the demo's runtime by its PID (it runs in its own session): TERM, then KILL after 5 s."""
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            try:  # our child: reap it (a zombie would still answer kill 0)
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def demo(
    ctx: typer.Context,
    reset: bool = typer.Option(False, "--reset", help="Delete the demo workspace and seed it afresh."),
    speed: Optional[float] = typer.Option(None, "--speed", help="Campaign seconds per real second (default: the "
                                          "speed the demo was left at, first 3600); + / - change it in the app."),
    contacts: int = typer.Option(3000, "--contacts", min=0, max=DEMO_CONTACTS_MAX, help="How many demo contacts to seed."),
    no_runtime: bool = typer.Option(False, "--no-runtime", help="Only seed and open the TUI."),
) -> None:
    """A seeded sandbox workspace + its runtime on a fast clock + the TUI. Nothing real is contacted."""
    from cli.tui import runtime_alive
    from runtime.lease import spawn_background
    from runtime.clock import wall_now
    from storage.demo_clock import set_demo_clock
    from storage.workspace import CONFIG_NAME, open_workspace
    from tui.app import EnginyApp

    if speed is not None and (problem := speed_problem(speed)):
        raise UserError(f"--speed {problem}")
    folder = demo_dir(chosen_workspace(ctx))
    if (folder / CONFIG_NAME).exists() and not (folder / MARK).exists():
        raise UserError(f"{folder} holds a real workspace, not the demo; the demo never touches it "
                        "(pass another --workspace, or leave it out)")
    if reset and folder.exists():
        if any(folder.iterdir()) and not (folder / MARK).exists():
            raise UserError(f"{folder} is not enginy's demo folder; not deleting it")
        shutil.rmtree(folder)
    if not (folder / CONFIG_NAME).exists():
        typer.echo(f"Seeding the demo workspace in {folder} …")
        seed(folder, contacts=contacts)
    workspace = open_workspace(folder)
    db = workspace.open_db()
    try:
        rate = starting_speed(db, speed, workspace.config.demo.speed)
        set_demo_clock(db, speed=rate, paused=False)
        holder = runtime_alive(db, wall_now())
    finally:
        db.close()
    pid = None
    if holder:
        notice = f"Demo runtime already running (pid {holder['pid']})."
    elif no_runtime:
        notice = "Demo without a runtime: nothing advances."
    else:
        # `enginy run --speed R` runs the sandbox on the accelerated clock; its heartbeat applies the
        # demo_speed / demo_paused rows that +/-/p write (storage/demo_clock.py) within a second.
        pid = spawn_background(workspace.dir, speed=rate, stop_with=os.getpid())
        notice = f"Demo runtime started (pid {pid}) at {rate:,.0f}× — + / - speed, p pauses the clock. Workspace: {folder}"
    try:
        EnginyApp(workspace, notice=notice, demo=True).run()
    finally:
        stop_process(pid)
