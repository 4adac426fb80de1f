"""The workspace's AI endpoint: `[ai]` of enginy.toml plus its key.

The key comes from ENGINY_AI_API_KEY when set (scripts, CI), else from the
workspace's secret store (`enginy ai key --stdin` put it there under `AI_SECRET`);
none at all is fine for a local server (Ollama, llama.cpp) that asks for none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from runtime.ai.client import AIClient, AIError, Endpoint, Reason
from runtime.secrets import SecretsError, SecretStore
from storage.config import AI_NOT_CONFIGURED

AI_SECRET = "ai-api-key"
KEY_VARIABLE = "ENGINY_AI_API_KEY"
NOT_CONFIGURED = AI_NOT_CONFIGURED


def configured(workspace) -> bool:
    return workspace.config.ai.configured


def key_source(workspace, environ: Mapping[str, str] = os.environ) -> str:
    """Where the key would come from: "environment", "secret store" or "none" (never the key)."""
    if environ.get(KEY_VARIABLE, "").strip():
        return "environment"
    return "secret store" if SecretStore.of(workspace).load(AI_SECRET) else "none"


def endpoint_of(workspace, environ: Mapping[str, str] = os.environ) -> Endpoint:
    """The endpoint to ask; AIError(not_configured) when the workspace has none."""
    ai = workspace.config.ai
    if not configured(workspace):
        raise AIError(Reason.NOT_CONFIGURED, NOT_CONFIGURED)
    key = environ.get(KEY_VARIABLE, "").strip() or SecretStore.of(workspace).load(AI_SECRET)
    return Endpoint(base_url=ai.base_url.strip(), model=ai.model.strip(), key=key or None, timeout=ai.timeout,
                    max_retries=ai.max_retries, temperature=ai.temperature, max_output=ai.max_output)


def ai_client_of(folder: str) -> AIClient | None:
    """A client for the workspace in `folder` (the runtime's), None when it has no AI provider."""
    from storage.workspace import WorkspaceError, open_workspace

    try:
        return AIClient(endpoint_of(open_workspace(folder)))
    except (AIError, WorkspaceError, SecretsError):
        return None
