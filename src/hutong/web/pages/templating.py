"""The pages' Jinja2 environment (autoescape on) and its filters: times, highlights, paths."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

WEB_DIR = Path(__file__).parents[1]  # hutong/web, where templates/ and static/ live
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
DISPLAY_TIMEZONE = "Asia/Shanghai"


def _display_zone() -> dt.tzinfo:
    try:
        return ZoneInfo(DISPLAY_TIMEZONE)
    except ZoneInfoNotFoundError:  # pragma: no cover - a system without a tz database
        # China has kept UTC+8 all year since 1991, so a fixed offset shows the same time.
        return dt.timezone(dt.timedelta(hours=8), "CST")


DISPLAY_ZONE = _display_zone()


def _datetime(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def _localtime(value: dt.datetime | None) -> Markup:
    """A UTC time shown in Beijing time, in a <time> element that keeps the UTC instant."""
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    utc = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    local = value.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M:%S")
    return Markup('<time datetime="{}">{}</time>').format(utc, local)


def _highlight(text: str, q: str) -> Markup:
    """``text`` escaped, with the search terms wrapped in <mark>."""
    terms = sorted({t for t in q.split() if t}, key=len, reverse=True)[:10]
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    out, last = Markup(""), 0
    for match in pattern.finditer(text):
        out += escape(text[last : match.start()]) + Markup("<mark>%s</mark>") % match.group()
        last = match.end()
    return out + escape(text[last:])


def _excerpt(text: str, length: int = 140) -> str:
    return text if len(text) <= length else text[:length].rstrip() + "…"


def _path(value: str) -> str:
    """A path segment for an identifier (node:uscc:code keeps its colons)."""
    return quote(value, safe=":@-._~")


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    datetime=_datetime, localtime=_localtime, highlight=_highlight, excerpt=_excerpt, path=_path
)
