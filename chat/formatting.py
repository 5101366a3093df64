"""Message formatting: a small, safe Markdown subset, rendered once on the server.

Bold, italic, inline code and code blocks, quotes, bulleted and numbered lists and
links (http, https, mailto; bare URLs become links too). No images, no raw HTML, no
headings ("# Titel" stays text), no tables. markdown-it-py parses with only those rules
enabled, and nh3 (ammonia) sanitises the result against an allow-list of tags and
attributes as a second wall: even a bug in the parser's configuration cannot let a
script, an event handler or a `javascript:` link through. Every link opens in a new
tab with `rel="nofollow noopener noreferrer"`.

The HTML is built once per message (in `chat.events.message_payload`, which feeds the
frame that is serialised once for every subscriber, and the history), never per
recipient; browsers insert it as it comes (docs/formatting-moderation.md).
`plain_text` is the same message for notification previews and e-mail text parts:
the Markdown markers gone, links as "Text (Adresse)".
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"

# Block rules, inline rules: everything else markdown-it knows stays off.
BLOCK_RULES = ["paragraph", "code", "fence", "blockquote", "list"]
INLINE_RULES = ["emphasis", "backticks", "link", "autolink", "escape", "newline", "linkify"]


def _no_lazy_quote_line(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Ends a quote at the first line without ">". CommonMark would carry such a line
    on as a "lazy continuation" of the quoted paragraph; in a chat "> Frage\nAntwort"
    is a quote and the answer to it. Only consulted by the blockquote rule for a line
    it did not find a ">" on (a terminator: never a block of its own)."""
    return silent


def _no_lazy_list_line(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Ends a list item's paragraph at a line indented less than the item's text (the
    only place a paragraph's line is below the block's indent): "1. zwei\nLink: …"
    is a list and then a line of its own, not the item's lazy continuation. A line
    indented to the item's text still continues it."""
    return silent and state.sCount[start_line] < state.blkIndent


@functools.cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("zero", {"breaks": True, "html": False, "linkify": True})
    parser.enable(BLOCK_RULES)
    parser.enable(INLINE_RULES)
    # "A single line break is a line break" (docs/formatting-moderation.md), also
    # after a quote or a list: no lazy continuation lines.
    parser.block.ruler.before(
        "paragraph", "no_lazy_quote_line", _no_lazy_quote_line, {"alt": ["blockquote"]}
    )
    parser.block.ruler.before(
        "paragraph", "no_lazy_list_line", _no_lazy_list_line, {"alt": ["paragraph"]}
    )
    # Only real URLs with a scheme, not "beispiel.de" in a sentence.
    assert parser.linkify is not None
    parser.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    return parser


def render_html(body: str) -> str:
    """The message body as sanitised HTML (empty for an empty body)."""
    if not body:
        return ""
    rendered = _parser().render(body)
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    ).strip()


# What an enabled rule (or the sanitiser's serialisation) could act on: a marker
# character anywhere (emphasis, code, links, autolinks, escapes, entities, linkify's
# "scheme:", the no-break space nh3 writes as an entity), a line break or another
# control character, or a marker or space at the start (list, quote, indented
# code). A body without any of them renders as its escaped text, one paragraph.
MAYBE_MARKUP = re.compile(r"[*_`~\[\]<>\\&:\x00-\x1f\x7f\xa0]|^[-+*>#=\d\s]")


def formatted_html(body: str) -> str:
    """`render_html(body)`, or "" when it would show exactly the plain text (one
    paragraph, escaped, line breaks as <br>): most chat messages. The wire carries
    `body_html` only for the others, so plain messages cost no extra bytes per
    subscriber and clients show `body` as text (docs/formatting-moderation.md).
    A body `MAYBE_MARKUP` finds nothing in is plain without being rendered (that
    costs 0.1-0.2 ms of CPU per send; tests/chat/test_formatting.py compares)."""
    if MAYBE_MARKUP.search(body) is None:
        return ""
    rendered = render_html(body)
    plain = "<p>" + html.escape(body.strip(), quote=False).replace("\n", "<br>\n") + "</p>"
    return "" if rendered == plain else rendered


def plain_text(body: str) -> str:
    """The body without Markdown markers, for previews and e-mail text parts."""
    if not body:
        return ""
    tokens = _parser().parse(body)
    parts: list[str] = []
    for token in tokens:
        if token.type == "inline":
            parts.append(_inline_text(token.children or []))
        elif token.type in ("code_block", "fence"):
            parts.append(token.content.rstrip("\n"))
        elif token.type in ("paragraph_close", "list_item_close", "blockquote_close"):
            parts.append("\n")
        elif token.type == "list_item_open":
            parts.append(f"{token.info}. " if token.markup in (".", ")") else "• ")
    lines = [line.rstrip() for line in "".join(parts).split("\n")]
    return "\n".join(line for line in lines if line).strip()


def _inline_text(children: list[Any]) -> str:
    out: list[str] = []
    href = ""
    link_text: list[str] = []
    in_link = False
    for child in children:
        if child.type == "link_open":
            in_link, href, link_text = True, str(child.attrs.get("href", "")), []
        elif child.type == "link_close":
            text = "".join(link_text)
            shown = href.removeprefix("mailto:")
            out.append(text if text in (href, shown) else f"{text} ({shown})")
            in_link = False
        elif child.type in ("text", "code_inline"):
            (link_text if in_link else out).append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            (link_text if in_link else out).append("\n")
    return "".join(out)
