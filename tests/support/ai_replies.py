"""Test helpers for the AI agent after replies: point a workspace at the AI test server, answer by role."""

from __future__ import annotations

import re
from pathlib import Path

ANSWER = "Thanks! Would Tuesday at 10:00 suit you for a short call?"


def configure_ai(ws_dir: Path, url: str) -> None:
    """`[ai]` of the workspace's enginy.toml on the test server, no retries (a failure shows at once)."""
    config = Path(ws_dir) / "enginy.toml"
    head, ai, tail = config.read_text().partition("\n[ai]")
    for key, value in (("base_url", f'"{url}"'), ("model", '"test-model"'), ("max_retries", "0")):
        tail = re.sub(rf"(?m)^{key} = [^#\n]*", f"{key} = {value}  ", tail, count=1)
    config.write_text(head + ai + tail)


def is_tagging(request: dict) -> bool:
    return request["json"]["messages"][0]["content"].startswith("You label")


def answers(request: dict) -> str:
    """Junk to a tagging question (so the rules' tags stand), ANSWER to a reply's."""
    return "Label: none of these, sorry" if is_tagging(request) else ANSWER
