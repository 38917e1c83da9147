"""Which imported records to keep, and which platform each belongs to.

A record is kept when it is in the date range and, if numbers or keywords are
given, when its number is listed or its text (body, the phone's contact name)
holds one of the keywords. A number that sent an SMS holding a keyword is a
collection number: its calls are kept too (:attr:`Selection.senders`, learned
from the texts of the same import and of the log). With no filter at all,
everything is kept. The platform map assigns a platform by number first, then
by the first keyword found in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from evidence import phone
from evidence.errors import InvalidInput

DEFAULT_KEYWORDS = (
    "逾期", "还款", "催收", "法务", "上门", "征信", "起诉", "律师函", "欠款", "结清", "减免",
    "协商", "诉讼", "立案", "传票", "仲裁", "紧急联系人", "通讯录", "外访", "失信", "强制执行",
    "违约", "罚息", "催告", "代偿",
)  # fmt: skip
NOT_SELECTED = "neither a listed number nor a keyword"
_NUMBER_LIKE = re.compile(r"^[+\d][\d\s\-()+]*$")
_SPLIT = re.compile(r"[,，、;；\s]+")


def keywords_from(values: Iterable[str]) -> tuple[str, ...]:
    """Words from ``--keywords`` values (comma or space separated); ``default`` adds the list."""
    words: list[str] = []
    for value in values:
        for word in _SPLIT.split(value.strip()):
            if word.lower() == "default":
                words.extend(DEFAULT_KEYWORDS)
            elif word:
                words.append(word)
    return tuple(dict.fromkeys(words))


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="gb18030", errors="replace")
    except OSError as error:
        raise InvalidInput(f"cannot read {path.name}: {error.strerror}") from None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            yield number, stripped


def _pair(line: str) -> tuple[str, str]:
    for separator in ("\t", "=", ",", "，"):
        if separator in line:
            key, _sep, platform = line.partition(separator)
            return key.strip(), platform.strip()
    return line.strip(), ""


def read_numbers(path: Path) -> tuple[set[str], dict[str, str]]:
    """One number a line, optionally followed by its platform (``95188, 借呗``)."""
    numbers: set[str] = set()
    platforms: dict[str, str] = {}
    for _line_no, line in _lines(path):
        raw, platform = _pair(line)
        key = phone.key(phone.normalize(raw))
        if key:
            numbers.add(key)
            if platform:
                platforms[key] = platform
    return numbers, platforms


def read_platform_map(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``KEY = PLATFORM`` a line; a KEY written like a number is a number, else a keyword."""
    by_number: dict[str, str] = {}
    by_keyword: dict[str, str] = {}
    for line_no, line in _lines(path):
        key, platform = _pair(line)
        if not key or not platform:
            raise InvalidInput(f"{path.name} line {line_no}: write NUMBER-OR-WORD = PLATFORM")
        if _NUMBER_LIKE.match(key):
            by_number[phone.key(phone.normalize(key))] = platform
        else:
            by_keyword[key] = platform
    return by_number, by_keyword


@dataclass
class Selection:
    numbers: set[str] = field(default_factory=set)
    keywords: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    platform_numbers: dict[str, str] = field(default_factory=dict)
    platform_keywords: dict[str, str] = field(default_factory=dict)
    # Numbers that sent an SMS holding a keyword: their calls are collection calls too.
    senders: set[str] = field(default_factory=set)

    @property
    def filtering(self) -> bool:
        return bool(self.numbers or self.keywords or self.since or self.until)

    def describe(self) -> str:
        if not self.filtering:
            return "no filter: every record in the files was considered"
        parts = []
        if self.numbers:
            parts.append(f"{len(self.numbers)} numbers")
        if self.keywords:
            shown = "、".join(self.keywords[:8]) + ("…" if len(self.keywords) > 8 else "")
            parts.append(f"keywords {shown}")
        if self.since:
            parts.append(f"since {self.since.isoformat()}")
        if self.until:
            parts.append(f"until {self.until.isoformat()}")
        return "filters: " + "; ".join(parts)

    def keep(self, number_key: str, text: str, occurred_at: datetime) -> str | None:
        """``None`` to keep the record, else why it was skipped."""
        if self.since is not None and occurred_at < self.since:
            return "before --since"
        if self.until is not None and occurred_at >= self.until:
            return "after --until"
        if not (self.numbers or self.keywords):
            return None
        if number_key in self.numbers or self.matches(text):
            return None
        return NOT_SELECTED

    def matches(self, text: str) -> bool:
        return bool(text) and any(word in text for word in self.keywords)

    def learn_sender(self, number_key: str, direction: str | None, text: str) -> None:
        """Remember ``number_key`` when it sent (``incoming``) a text holding a keyword."""
        if number_key and direction == "incoming" and self.matches(text):
            self.senders.add(number_key)

    def platform(self, number_key: str, text: str) -> str | None:
        found = self.platform_numbers.get(number_key)
        if found:
            return found
        if text:
            for word, platform in self.platform_keywords.items():
                if word in text:
                    return platform
        return None
