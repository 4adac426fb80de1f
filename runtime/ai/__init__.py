"""The AI agent's side of the runtime: an OpenAI-compatible chat-completions client and what uses it.

The app never calls it (the TUI writes intents); the runtime and the CLI do."""
