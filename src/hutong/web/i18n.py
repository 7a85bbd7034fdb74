"""Page translations: zh-CN (default) and English, and how a request picks its language.

Domain terms (共享属性, 无条件共享, 安全级别 …) are legal vocabulary: English pages show the
English term followed by the Chinese one, so a reader can match them to the regulations.
The table itself is ``translations.toml`` next to this module, read once at import.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from markupsafe import Markup, escape

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "hutong_lang"
LANG_QUERY = "lang"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

TRANSLATIONS: dict[str, dict[str, str]] = tomllib.loads(
    Path(__file__).with_name("translations.toml").read_text(encoding="utf-8")
)


def translate(key: str, lang: str) -> str:
    """The text of ``key`` in ``lang``, else in Chinese, else the key itself."""
    entry = TRANSLATIONS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry.get(DEFAULT_LANGUAGE) or key


def term(key: str, lang: str) -> Markup:
    """A domain term: Chinese on Chinese pages; English followed by the Chinese term on English
    pages (marked ``lang="zh-CN"`` for screen readers)."""
    zh = translate(key, DEFAULT_LANGUAGE)
    if lang == DEFAULT_LANGUAGE or key not in TRANSLATIONS:
        return escape(zh)
    return Markup('{} <span class="zh-term" lang="zh-CN">{}</span>').format(
        translate(key, lang), zh
    )


def _from_accept_language(header: str) -> str | None:
    """The first supported language in an Accept-Language header, by quality."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def choose_language(
    *, query: str | None, cookie: str | None, accept_language: str | None
) -> tuple[str, bool]:
    """The page language, and whether it was chosen now (so the cookie should remember it).

    Order: ``?lang=``, the ``hutong_lang`` cookie, Accept-Language, then zh-CN.
    """
    if query in LANGUAGES:
        return query, query != cookie
    if cookie in LANGUAGES:
        return cookie, False
    return _from_accept_language(accept_language or "") or DEFAULT_LANGUAGE, False
