"""`enginy.toml`: the workspace's settings, decoded into typed Structs.

Unknown fields are forbidden so a typo never silently does nothing; a bad file
gets one message naming the field and, where it can be found, the line.
Secrets never live here: keys that look like one are refused outright.
"""

from __future__ import annotations

import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from sequences.limits import (
    EMAIL_PER_DAY, EMAIL_PER_HOUR, LINE_MAX_CHARS, LINKEDIN_INVITES_PER_DAY, LINKEDIN_MESSAGES_PER_DAY, SEED_MAX, speed_problem,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SECRET_KEY = re.compile(r"(password|passwd|secret|api[_-]?key|token)", re.IGNORECASE)


class ConfigError(Exception):
    """enginy.toml cannot be used; the message names the field (and line)."""


class Base(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class WorkingHours(Base):
    timezone: str = "UTC"
    days: list[str] = msgspec.field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    start: str = "09:00"
    end: str = "18:00"


class EmailDefaults(Base):
    per_day: int = EMAIL_PER_DAY.default
    per_hour: int = EMAIL_PER_HOUR.default


class LinkedInDefaults(Base):
    daily_connection_requests: int = LINKEDIN_INVITES_PER_DAY.default
    daily_messages: int = LINKEDIN_MESSAGES_PER_DAY.default


class Secrets(Base):
    backend: str = "keyring"
    file: str = ".secrets"


class Tracking(Base):
    base_url: str = ""


class AI(Base):
    """An OpenAI-compatible chat-completions endpoint (hosted, Ollama, vLLM, llama.cpp, LiteLLM …).
    Empty `base_url`: no AI; the AI features say so and everything else works. The key is a
    secret: `enginy ai key --stdin` or the ENGINY_AI_API_KEY variable, never this file."""

    base_url: str = ""
    model: str = ""
    timeout: float = 60.0
    max_retries: int = 3
    temperature: float = 0.7
    max_output: int = 600  # tokens (the request's max_tokens; a key named *token* would read as a secret)

    @property
    def configured(self) -> bool:
        """An endpoint is named (the runtime and the CLI ask it; the app asks them)."""
        return bool(self.base_url.strip())


AI_NOT_CONFIGURED = ("no AI provider is configured: set [ai] base_url and model in enginy.toml "
                     "(any OpenAI-compatible endpoint), then `enginy ai check`")


#: (field, low, high) of the [ai] numbers: outside them a setting makes no sense (or no answer comes).
AI_BOUNDS = (("timeout", 1, 600), ("max_retries", 0, 10), ("temperature", 0, 2), ("max_output", 1, 32_000))


class Demo(Base):
    speed: float = 3600.0
    seed: int = 7


class Config(Base):
    name: str = "My workspace"
    user: str = "you"
    database: str = "enginy.db"
    working_hours: WorkingHours = msgspec.field(default_factory=WorkingHours)
    email: EmailDefaults = msgspec.field(default_factory=EmailDefaults)
    linkedin: LinkedInDefaults = msgspec.field(default_factory=LinkedInDefaults)
    secrets: Secrets = msgspec.field(default_factory=Secrets)
    tracking: Tracking = msgspec.field(default_factory=Tracking)
    ai: AI = msgspec.field(default_factory=AI)
    demo: Demo = msgspec.field(default_factory=Demo)


def _line_of(text: str, path: list[str]) -> int | None:
    """Best-effort line number of the key at `path` (table headers, then the key)."""
    lines = text.splitlines()
    start = 0
    for depth, key in enumerate(path):
        is_last = depth == len(path) - 1
        for i in range(start, len(lines)):
            stripped = lines[i].strip()
            if re.fullmatch(rf"\[\s*{re.escape('.'.join(path[: depth + 1]))}\s*\](\s*#.*)?", stripped):
                if is_last:
                    return i + 1  # the key is a table: its header line
                start = i + 1
                break
            if re.match(rf"{re.escape(key)}\s*=", stripped) or re.match(
                rf"{re.escape('.'.join(path[depth:]))}\s*=", stripped
            ):
                return i + 1
        else:
            return None
    return None


def _where(text: str, path: list[str]) -> str:
    line = _line_of(text, path)
    field = ".".join(path) or "(top level)"
    return f"field `{field}`" + (f" (line {line})" if line else "")


def _check_secrets(obj: object, text: str, path: list[str]) -> None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            allowed = (path == [] and key == "secrets") or (path == ["secrets"] and key in ("backend", "file"))
            if _SECRET_KEY.search(key) and not allowed:
                raise ConfigError(
                    f"{_where(text, path + [key])}: secrets never go in enginy.toml; "
                    "passwords and API keys are read from stdin and kept in the keyring or the secrets file"
                )
            _check_secrets(value, text, path + [key])


def _parse_hhmm(value: str, field: list[str], text: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{_where(text, field)}: expected a time like 09:00, got {value!r}") from None


def _validate(config: Config, text: str) -> None:
    wh = config.working_hours
    try:
        ZoneInfo(wh.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{_where(text, ['working_hours', 'timezone'])}: unknown time zone {wh.timezone!r} "
            "(use an IANA name such as Europe/Madrid or America/New_York)"
        ) from None
    bad_days = [d for d in wh.days if d not in WEEKDAYS]
    if bad_days or not wh.days:
        raise ConfigError(f"{_where(text, ['working_hours', 'days'])}: days are {', '.join(WEEKDAYS)}; got {wh.days!r}")
    if _parse_hhmm(wh.start, ["working_hours", "start"], text) >= _parse_hhmm(wh.end, ["working_hours", "end"], text):
        raise ConfigError(f"{_where(text, ['working_hours', 'end'])}: the working day must end after it starts")
    limits = [
        (["email", "per_day"], config.email.per_day, EMAIL_PER_DAY),
        (["email", "per_hour"], config.email.per_hour, EMAIL_PER_HOUR),
        (["linkedin", "daily_connection_requests"], config.linkedin.daily_connection_requests, LINKEDIN_INVITES_PER_DAY),
        (["linkedin", "daily_messages"], config.linkedin.daily_messages, LINKEDIN_MESSAGES_PER_DAY),
    ]
    for field, value, cap in limits:
        if not cap.allows(value):
            raise ConfigError(f"{_where(text, field)}: must be between {cap.low} and {cap.high}, got {value}")
    if config.secrets.backend not in ("keyring", "file"):
        raise ConfigError(f"{_where(text, ['secrets', 'backend'])}: must be \"keyring\" or \"file\"")
    ai = config.ai
    if ai.base_url and not re.match(r"^https?://[^/\s]+", ai.base_url.strip()):
        raise ConfigError(f"{_where(text, ['ai', 'base_url'])}: a URL starting with http:// or https://, "
                          "e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1")
    if ai.base_url and not ai.model.strip():
        raise ConfigError(f"{_where(text, ['ai', 'model'])}: name the model the endpoint serves (e.g. gpt-4o-mini)")
    for field, low, high in AI_BOUNDS:
        if not low <= getattr(ai, field) <= high:
            raise ConfigError(f"{_where(text, ['ai', field])}: must be between {low} and {high}, "
                              f"got {getattr(ai, field)}")
    if problem := speed_problem(config.demo.speed):
        raise ConfigError(f"{_where(text, ['demo', 'speed'])}: {problem}")
    if not 0 <= config.demo.seed <= SEED_MAX:
        raise ConfigError(f"{_where(text, ['demo', 'seed'])}: must be between 0 and {SEED_MAX}")
    for field in ("name", "user"):
        if len(getattr(config, field)) > LINE_MAX_CHARS:
            raise ConfigError(f"{_where(text, [field])}: at most {LINE_MAX_CHARS} characters")
    if not config.database or "/" in config.database:
        raise ConfigError(f"{_where(text, ['database'])}: a file name inside the workspace folder")


def parse_config(text: str) -> Config:
    """Decode and check enginy.toml text; raises ConfigError with a one-line reason."""
    try:
        raw = msgspec.toml.decode(text.encode())
    except msgspec.DecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}") from None
    _check_secrets(raw, text, [])
    try:
        config = msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = re.search(r"at `\$((?:\.[A-Za-z0-9_]+|\[\d+\])*)`", message)
        path = [p for p in re.split(r"\.|\[\d+\]", match.group(1)) if p] if match else []
        if message.startswith("Object contains unknown field"):
            unknown = re.search(r"unknown field `([^`]+)`", message)
            key = unknown.group(1) if unknown else "?"
            raise ConfigError(f"{_where(text, path + [key])}: unknown setting (check its spelling)") from None
        reason = message.split(" - at ")[0]
        raise ConfigError(f"{_where(text, path)}: {reason}") from None
    _validate(config, text)
    return config


DEFAULT_TOML = f'''\
# enginy workspace settings. Every field is optional; the values shown are the defaults.
# Secrets (SMTP/IMAP passwords, gateway API keys) never go here: commands read them
# from stdin and keep them in the OS keyring, or in the secrets file below.

name = "My workspace"        # shown in the app's title
user = "you"                 # who acts: recorded with every change you make
database = "enginy.db"       # the SQLite file inside this folder

[working_hours]              # defaults for new identities (each identity has its own)
timezone = "UTC"             # IANA name, e.g. "Europe/Madrid"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "18:00"

[email]                      # defaults for new inboxes
per_day = {EMAIL_PER_DAY.default:<19}# emails per inbox per day ({EMAIL_PER_DAY.low}-{EMAIL_PER_DAY.high})
per_hour = {EMAIL_PER_HOUR.default:<18}# emails per inbox per hour ({EMAIL_PER_HOUR.low}-{EMAIL_PER_HOUR.high})

[linkedin]                   # defaults for new identities
daily_connection_requests = {LINKEDIN_INVITES_PER_DAY.default}
daily_messages = {LINKEDIN_MESSAGES_PER_DAY.default}

[secrets]
backend = "keyring"          # "keyring", or "file" on a headless server
file = ".secrets"            # folder (0700) for the file backend, relative to this folder

[tracking]
base_url = ""                # public https URL of `enginy tracking serve`, for open/click tracking

[ai]                         # an OpenAI-compatible endpoint; empty base_url: no AI features
base_url = ""                # e.g. "https://api.openai.com/v1", Ollama "http://127.0.0.1:11434/v1"
model = ""                   # the model it serves, e.g. "gpt-4o-mini", "llama3.1"
timeout = 60.0               # seconds to wait for one answer (1-600)
max_retries = 3              # retries on 429 / 5xx / timeouts, with backoff (0-10)
temperature = 0.7            # 0-2
max_output = 600             # longest answer, in tokens (1-32000)
# the API key: `enginy ai key --stdin` (kept in the secret store) or ENGINY_AI_API_KEY

[demo]
speed = 3600.0               # workspace seconds per real second in `enginy demo`
seed = 7
'''
