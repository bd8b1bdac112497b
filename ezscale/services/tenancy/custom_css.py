"""A reseller's custom CSS, checked by a real CSS tokenizer (tinycss2) against allow-lists.

Pattern matching on the text missed forms a browser still fetches (`image-set("http://…")`,
`url("/<TAB>/…")`, an unterminated `url(http://…`). Here the CSS is parsed the way a browser
parses it, and only known at-rules, properties, functions and URL forms pass. Anything else is
refused with a reason; nothing is silently rewritten.
"""

import re

import tinycss2
from tinycss2 import ast

from ezscale.errors import DomainError

MAX_CSS_BYTES = 20_000

AT_RULES = frozenset({"media", "supports", "keyframes", "-webkit-keyframes", "font-face"})
# Property families, matched on the name without a vendor prefix: `border` allows `border-top-color`.
PROPERTY_FAMILIES = frozenset(
    {
        "accent-color", "align", "animation", "appearance", "aspect-ratio", "backdrop-filter",
        "background", "block-size", "border", "bottom", "box-shadow", "box-sizing", "caret-color",
        "clear", "color", "column", "columns", "content", "counter", "cursor", "direction", "display",
        "fill", "filter", "flex", "float", "font", "gap", "grid", "height", "hyphens", "inline-size",
        "inset", "isolation", "justify", "left", "letter-spacing", "line-height", "list-style",
        "margin", "max-height", "max-width", "min-height", "min-width", "mix-blend-mode", "object",
        "opacity", "order", "outline", "overflow", "padding", "place", "pointer-events", "position",
        "quotes", "resize", "right", "row-gap", "scroll", "src", "stroke", "tab-size", "table-layout",
        "text", "top", "transform", "transition", "unicode-range", "user-select", "vertical-align",
        "visibility", "white-space", "width", "word", "writing-mode", "z-index", "font-display",
    }
)  # fmt: skip
FUNCTIONS = frozenset(
    {
        "attr", "blur", "brightness", "calc", "circle", "clamp", "color", "color-mix",
        "conic-gradient", "contrast", "counter", "counters", "cubic-bezier", "drop-shadow",
        "ellipse", "fit-content", "format", "grayscale", "hsl", "hsla", "hue-rotate", "hwb", "inset",
        "invert", "lab", "lch", "linear-gradient", "local", "matrix", "matrix3d", "max", "min",
        "minmax", "oklab", "oklch", "opacity", "perspective", "polygon", "radial-gradient", "rect",
        "repeat", "repeating-conic-gradient", "repeating-linear-gradient",
        "repeating-radial-gradient", "rgb", "rgba", "rotate", "rotate3d", "rotatex", "rotatey",
        "rotatez", "saturate", "scale", "scale3d", "scalex", "scaley", "sepia", "skew", "skewx",
        "skewy", "steps", "translate", "translate3d", "translatex", "translatey", "url", "var",
    }
)  # fmt: skip
# This site's own paths: one leading slash, then only URL characters (no whitespace or controls,
# which browsers drop, turning `/<TAB>/evil.example` into `//evil.example`).
_SITE_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~!$&'*+,;=:@%/?#-]*")
_INLINE_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=]+", re.I)
_VENDOR = re.compile(r"^-(webkit|moz|ms|o)-")


def _check_url(target: str) -> None:
    if not (_SITE_PATH.fullmatch(target) or _INLINE_IMAGE.fullmatch(target)):
        shown = target.encode("unicode_escape").decode()[:80]
        raise DomainError(f"url({shown}) points to another host; only this site's paths are allowed.")


def _check_values(tokens: list) -> None:
    """Every token of a value or prelude: no parse errors, allow-listed functions, safe URLs."""
    for token in tokens:
        if isinstance(token, ast.ParseError):
            raise DomainError(f"Custom CSS is malformed ({token.message}).")
        if isinstance(token, ast.URLToken):
            _check_url(token.value)
        elif isinstance(token, ast.FunctionBlock):
            name = token.lower_name
            if name == "expression":
                raise DomainError("CSS expressions are not allowed.")
            if name not in FUNCTIONS:
                raise DomainError(f"The CSS function {name}() is not allowed in custom CSS.")
            if name == "url":
                strings = [t for t in token.arguments if not isinstance(t, ast.WhitespaceToken)]
                if len(strings) != 1 or not isinstance(strings[0], ast.StringToken):
                    raise DomainError("url() takes one address.")
                _check_url(strings[0].value)
            _check_values(token.arguments)
        elif isinstance(token, (ast.ParenthesesBlock, ast.SquareBracketsBlock, ast.CurlyBracketsBlock)):
            _check_values(token.content)


def _check_declarations(content: list) -> None:
    for item in tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True):
        if isinstance(item, ast.ParseError):
            raise DomainError(f"Custom CSS is malformed ({item.message}).")
        if not isinstance(item, ast.Declaration):
            raise DomainError("Nested rules are not allowed in custom CSS; write each rule on its own.")
        name = item.lower_name
        if not name.startswith("--"):
            bare = _VENDOR.sub("", name)
            if not any(bare == f or bare.startswith(f + "-") for f in PROPERTY_FAMILIES):
                raise DomainError(f"The CSS property {name} is not allowed in custom CSS.")
        _check_values(item.value)


def _check_rules(rules: list) -> None:
    for rule in rules:
        if isinstance(rule, ast.ParseError):
            raise DomainError(f"Custom CSS is malformed ({rule.message}).")
        if isinstance(rule, ast.AtRule):
            if rule.lower_at_keyword not in AT_RULES:
                raise DomainError(f"@{rule.lower_at_keyword} is not allowed in custom CSS.")
            _check_values(rule.prelude)
            if rule.content is None:
                raise DomainError(f"@{rule.lower_at_keyword} needs a block.")
            if rule.lower_at_keyword == "font-face":
                _check_declarations(rule.content)
            else:
                nested = tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True)
                _check_rules(nested)
        elif isinstance(rule, ast.QualifiedRule):
            _check_values(rule.prelude)
            _check_declarations(rule.content)


def sanitise_css(css: str) -> str:
    """Validate a reseller's custom CSS; refuse rather than silently rewrite.

    Allowed: rules (also inside @media, @supports, @keyframes, @font-face) of allow-listed
    properties and functions, with url() only to this site's own paths (`/…`) or inline
    PNG/JPEG/GIF images. The CSS is inlined in a <style> element, so `<` is refused outright.
    """
    css = (css or "").replace("\r\n", "\n").strip()
    if len(css.encode()) > MAX_CSS_BYTES:
        raise DomainError(f"Custom CSS is limited to {MAX_CSS_BYTES // 1000} kB.")
    if "<" in css:
        raise DomainError("Custom CSS cannot contain < (as in </style>).")
    # Escapes are decoded by the tokenizer, but keep the stored text plain and readable.
    if "\\" in css:
        raise DomainError("Backslash escapes are not allowed in custom CSS.")
    if re.search(r"javascript\s*:", css, re.I):
        raise DomainError("javascript: URLs are not allowed.")
    if css.count("{") != css.count("}"):
        raise DomainError("Custom CSS has unbalanced braces.")
    _check_rules(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))
    return css
