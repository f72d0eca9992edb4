"""Markdown to safe HTML. Every post goes through ``render_post``; nothing else reaches a page.

Two layers: raw HTML in the source is escaped before Markdown sees it, and the HTML Markdown
produces is cleaned by nh3 with a short allow-list (no script, style, event handler, image,
iframe, SVG; only http, https and mailto URLs).
"""

import re
from dataclasses import dataclass

import markdown
import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "del",
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


def _escape_raw_html(text: str) -> str:
    # "&" is left for Markdown (it escapes bare ampersands and keeps entities); "<" never starts
    # a tag. ">" stays so blockquotes work; alone it cannot open markup.
    return text.replace("<", "&lt;")


def _link_text(name: str) -> str:
    return re.sub(r"([\\\[\]()*_`])", r"\\\1", name)


def render_markdown(text: str, *, nofollow: bool, names: dict[str, str] | None = None) -> str:
    names = names or {}
    source = PRODUCT_TOKEN.sub(
        lambda m: f"[{_link_text(names.get(m.group(1), m.group(1)))}](/p/{m.group(1)}/)", text
    )
    html = markdown.markdown(
        _escape_raw_html(source),
        extensions=["fenced_code", "sane_lists", "nl2br"],
        output_format="html",
    )
    # Code spans escape "&" again: show the "<" the author typed, still as an entity.
    html = html.replace("&amp;lt;", "&lt;")
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
