"""Markdown to safe HTML. Every post goes through ``render_post``; nothing else reaches a page.

What is stored is what the shopper typed (``Post.body``); sanitizing belongs to rendering
(issue 17, item 11). The rendering never drops the shopper's words:

- The Markdown is CommonMark (markdown-it-py) with raw HTML turned off, so ``<b>`` or
  ``<script>`` in a post is shown as the characters typed, and anything that is not valid
  Markdown syntax (``![x](x" onerror="alert(1))``) stays literal text instead of being half
  parsed into an attribute and then stripped away.
- Images are not shown inline; ``![alt](url)`` becomes a link to the URL with its alt text.
- Links whose URL is not http, https, mailto or relative are left as the typed text
  (markdown-it's link validation).
- The HTML produced is then cleaned by nh3 with a short allow-list (no script, style, event
  handler, image, iframe, SVG; only http, https and mailto URLs), a second wall.

``Post.body_html`` is a cache of this rendering, rebuilt whenever the body changes; @mentions
are linked to public profiles at display time (``link_mentions``), because whether a profile is
public changes after the post is written.
"""

import re
from dataclasses import dataclass
from html import escape

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
PRODUCT_TOKEN = re.compile(r"\[\[product:([a-z0-9][a-z0-9-]{0,179})\]\]")
PRODUCT_URL = re.compile(r"(?:https?://[^\s/()<>]+)?/p/([a-z0-9][a-z0-9-]{0,179})/?")
MENTION = re.compile(r"(?<![\w@/.])@([A-Za-z0-9_][A-Za-z0-9_.\-]{1,29})(?<![.\-])")
QUOTE_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)
MAX_PRODUCTS = 6


def _image_as_link(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = self.renderInlineAsText(token.children or [], options, env) or src
    return f'<a href="{escape(src)}">{escape(alt)}</a>'


_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough")
_MARKDOWN.add_render_rule("image", _image_as_link)


@dataclass
class Rendered:
    html: str
    product_slugs: list[str]
    mentions: list[str]


def sanitize(html: str, *, nofollow: bool) -> str:
    rel = "nofollow ugc noopener noreferrer" if nofollow else "ugc noopener noreferrer"
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=rel,
        strip_comments=True,
    )


def _link_text(name: str) -> str:
    return re.sub(r"([\\\[\]()*_`<>&!])", r"\\\1", name)


def render_markdown(text: str, *, nofollow: bool, names: dict[str, str] | None = None) -> str:
    """The safe HTML for the Markdown ``text``. ``names`` maps product slugs to the link text of
    ``[[product:slug]]`` tokens. Never raises; every character typed is either Markdown syntax
    that was applied or shown as text."""
    names = names or {}
    source = PRODUCT_TOKEN.sub(
        lambda m: f"[{_link_text(names.get(m.group(1), m.group(1)))}](/p/{m.group(1)}/)", text
    )
    html = _MARKDOWN.render(source)
    # Headings inside a post stay below the page's own h1/h2.
    html = re.sub(r"<(/?)h[12]>", r"<\1h3>", html)
    return sanitize(html, nofollow=nofollow)


def product_slugs(text: str) -> list[str]:
    seen: list[str] = []
    for match in [*PRODUCT_TOKEN.finditer(text), *PRODUCT_URL.finditer(text)]:
        slug = match.group(1)
        if slug not in seen:
            seen.append(slug)
    return seen[: MAX_PRODUCTS * 2]


def mentions(text: str) -> list[str]:
    """Usernames mentioned in the author's own words (not in quoted lines)."""
    own = QUOTE_LINE.sub(" ", text)
    found: list[str] = []
    for match in MENTION.finditer(own):
        name = match.group(1)
        if name.lower() not in {n.lower() for n in found}:
            found.append(name)
    return found[:10]


def render_post(text: str, *, nofollow: bool, names: dict[str, str] | None = None) -> Rendered:
    """``names`` maps mentioned product slugs to product names for the link text."""
    return Rendered(
        html=render_markdown(text, nofollow=nofollow, names=names),
        product_slugs=product_slugs(text),
        mentions=mentions(text),
    )


def quote(text: str, *, author: str) -> str:
    """Markdown for quoting a post in a reply."""
    own = QUOTE_LINE.sub("", text).strip()
    lines = [f"> **{author} wrote:**", ">"] + [f"> {line}" for line in own.splitlines()]
    return "\n".join(lines) + "\n\n"


_TAG = re.compile(r"(<[^>]*>)")
_NO_LINK_INSIDE = {"a", "code", "pre"}


def link_mentions(html: str, urls: dict[str, str]) -> str:
    """``html`` (a sanitized rendering) with each ``@name`` whose lower-cased name is a key of
    ``urls`` turned into a link to that URL (a public profile). Text inside links and code is
    left alone; names not in ``urls`` (private profiles, unknown names) stay plain text."""
    if not urls or "@" not in html:
        return html
    depth = 0
    parts = _TAG.split(html)
    for i, part in enumerate(parts):
        if i % 2:  # a tag
            name = part.strip("</>").split(None, 1)[0].lower() if part.strip("</>") else ""
            if name in _NO_LINK_INSIDE:
                depth += -1 if part.startswith("</") else 1
            continue
        if depth > 0 or "@" not in part:
            continue
        parts[i] = MENTION.sub(
            lambda m: (
                f'<a class="mention" href="{escape(urls[m.group(1).lower()])}">@{m.group(1)}</a>'
                if m.group(1).lower() in urls
                else m.group(0)
            ),
            part,
        )
    return "".join(parts)
