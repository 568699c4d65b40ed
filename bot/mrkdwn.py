"""Slack's mrkdwn both ways: a message's text -> a plain question; plain text -> safe mrkdwn.

Article text is untrusted: an archived page may hold `<!channel>`, `<@U123>` or
`<https://evil|innocent>`. Escaping `&`, `<` and `>` turns every such control sequence into
visible text; `@here`-style words get a word joiner so no client setting can link them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

from core.answer.shown import clip as clip  # one clip for every surface
from core.language.lexical import STOPWORDS, stem
from core.written.verify import LINKS

_CONTROL = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.-]*[A-Za-z0-9]|[A-Za-z0-9]")
_WORD_JOINER = "\u2060"
_DIVIDES = "\u2223"  # ∣, looks like | but means nothing to Slack
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def plain_question(text: str, bot_user_id: str | None = None) -> str:
    """The question a person typed, from Slack's message markup.

    Mentions and broadcasts are dropped, links become their label (or URL), channel
    references their name, and `&amp;`-style escapes are undone.
    """

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "!")):
            return ""
        if target.startswith("#"):
            return f"#{label}" if label else ""
        return label or target

    text = _CONTROL.sub(replace, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    # Only zero-width characters (U+200B, U+2060, U+FEFF…) is no question: nothing to
    # answer, and a Share would post "asked: **" with nothing visible between the stars.
    if all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text):
        return ""
    return " ".join(text.split())


def escape(text: str) -> str:
    """Plain text as mrkdwn that shows exactly that text and can notify nobody."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _neutralise(text)


def unlink(text: str) -> str:
    """Web and e-mail addresses in plain text as text no client turns into a link.

    "https://city.example/a" shows as "https[:]//city[.]example/a" (the usual "defanged"
    form): readable, never clickable, whatever Slack's or a markdown renderer's linking.
    """

    def defang(match: re.Match[str]) -> str:
        return match.group(0).replace("://", "[:]//").replace(".", "[.]").replace("@", "[@]")

    return LINKS.sub(defang, text)


def _neutralise(text: str) -> str:
    return _BROADCAST.sub(lambda m: f"@{_WORD_JOINER}{m.group(1)}", text)


def emphasize(text: str, terms: Iterable[str]) -> str:
    """Escaped mrkdwn of `text` with the words whose stem is in `terms` in bold."""
    wanted = set(terms)
    text = _neutralise(text)  # before splitting: "@" and "channel" are separate pieces below
    out: list[str] = []
    position = 0
    for match in _WORD.finditer(text):
        out.append(escape(text[position : match.start()]))
        word = match.group(0)
        stripped = word.rstrip(".")
        if stem(stripped.lower()) in wanted and stripped.lower() not in STOPWORDS:
            out.append(f"*{escape(stripped)}*{escape(word[len(stripped) :])}")
        else:
            out.append(escape(word))
        position = match.end()
    out.append(escape(text[position:]))
    return "".join(out)


def blockquote(mrkdwn: str) -> str:
    """Quote every line (Slack's `>` only quotes the line it starts)."""
    return "\n".join(f">{line}" for line in mrkdwn.splitlines() or [""])


def link(url: str | None, label: str) -> str:
    """A link to a web page, or just the escaped label when there is no web URL.

    File paths are not linked: they mean nothing on a reader's machine.
    """
    shown = escape(label)
    if not url or not url.lower().startswith(("http://", "https://")):
        return shown
    # Slack ends the URL at a "|"; one in the label ("Headline | Outlet") must not let a
    # reader of the markup take part of the label for the target.
    shown = shown.replace("|", _DIVIDES)
    safe = quote(url, safe=":/?#[]@!$&'()*+,;=%~.-_")
    safe = safe.replace("&", "&amp;")
    return f"<{safe}|{shown}>" if shown else f"<{safe}>"


def mention(user_id: str) -> str:
    """A user mention, only for well-formed user ids (anything else shows nothing)."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else ""
