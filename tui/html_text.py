"""An HTML signature as terminal text: what the recipient reads, without the markup.

Signatures may be HTML (spec identity-configuration.md, "Signature":
"Advanced HTML Mode"); the configuration previews them readably. The standard
library's parser is enough for a signature (no new dependency): block
elements and <br> break lines, list items get a bullet, a link shows its
address after its text when they differ, an image its alt text; <style>,
<script> and <head> are dropped; entities are decoded; runs of blanks
collapse. The result is plain text — callers still show it through
`tui.text.literal`, so nothing in it is read as markup or a control sequence.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset({"p", "div", "table", "tr", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
                    "section", "header", "footer", "hr"})
_HIDDEN = frozenset({"style", "script", "head", "title"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br" or tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n• ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "img" and a.get("alt"):
            self.parts.append(f"[{a['alt']}]")
        if tag == "a":
            self.links.append(a.get("href"))
            self.parts.append("\0")  # where the link text starts

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            start = max(i for i, p in enumerate(self.parts) if p == "\0")
            text = "".join(self.parts[start + 1:]).strip()
            address = (href or "").removeprefix("mailto:").removeprefix("tel:")
            self.parts[start:] = [text if not address or address in text else f"{text} ({address})"]

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML fragment, lines trimmed, at most one blank line in a row."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    raw = "".join(p for p in parser.parts if p != "\0")
    lines = [re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in raw.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
