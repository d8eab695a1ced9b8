"""Markdown to safe HTML: markdown-it-py, Pygments for code, then nh3 as the last word.

Rendering happens once, at import; pages show the stored HTML. The sanitizer runs on the final
HTML, so no author input (raw HTML included) reaches a page with scripts, event handlers,
``javascript:`` URLs or frames, whatever the Markdown parser let through.
"""

from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

BLOCK_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "hr", "br", "pre",
    "table", "thead", "tbody", "tr", "th", "td", "img", "details", "summary", "dl", "dt", "dd",
}  # fmt: skip
INLINE_TAGS = {"a", "em", "strong", "code", "span", "del", "s", "kbd", "sup", "sub"}
ATTRIBUTES = {
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "span": {"class"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}

_formatter = HtmlFormatter(nowrap=True)


def _highlight(code: str, lang: str, attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes and wraps it
    return pygments_highlight(code, lexer, _formatter)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "highlight": _highlight})
    # Headings get ids, so that links to "lesson#section" land on the section.
    return md.enable(["table", "strikethrough"]).use(anchors_plugin, min_level=2, max_level=4)


_md = _parser()


ASSET_PREFIX = "/courses/"


def _only_course_images(tag: str, attribute: str, value: str) -> str | None:
    # Images come from the course's own stored files (rewritten at import). A raw <img> that
    # points anywhere else is dropped rather than left to fail or to track readers.
    if tag == "img" and attribute == "src" and not value.startswith(ASSET_PREFIX):
        return None
    return value


def sanitize(html: str, inline: bool = False) -> str:
    tags = INLINE_TAGS if inline else INLINE_TAGS | BLOCK_TAGS
    return nh3.clean(
        html,
        tags=tags,
        attributes={tag: attrs for tag, attrs in ATTRIBUTES.items() if tag in tags},
        attribute_filter=_only_course_images,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


# A link or image rewriter gets (url, line) and returns the URL to use, or None to drop it.
UrlRewriter = Callable[[str, int], str | None]


def render_markdown(
    text: str,
    *,
    first_line: int = 1,
    rewrite_link: UrlRewriter | None = None,
    rewrite_image: UrlRewriter | None = None,
) -> str:
    """Render a lesson body. ``first_line`` is the file line where ``text`` starts, so the
    rewriters can report problems against the file."""
    tokens = _md.parse(text)
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        line = first_line + (token.map[0] if token.map else 0)
        for child in token.children:
            _rewrite(child, line, rewrite_link, rewrite_image)
    return sanitize(_md.renderer.render(tokens, _md.options, {}))


def _rewrite(token: Token, line: int, rewrite_link, rewrite_image) -> None:
    if token.type == "link_open" and rewrite_link:
        new = rewrite_link(str(token.attrGet("href") or ""), line)
        if new is None:
            token.attrs.pop("href", None)
        else:
            token.attrSet("href", new)
    elif token.type == "image" and rewrite_image:
        new = rewrite_image(str(token.attrGet("src") or ""), line)
        if new is None:
            token.attrs.pop("src", None)
        else:
            token.attrSet("src", new)


def render_inline(text: str) -> str:
    """Quiz prompts, choices and explanations: inline Markdown (code, emphasis) only."""
    return sanitize(_md.renderInline(text.strip()), inline=True)


def pygments_css() -> str:
    return HtmlFormatter().get_style_defs("pre code")
