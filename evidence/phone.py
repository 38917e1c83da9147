"""Phone numbers: normalise to E.164 where possible, classify everything else.

Collectors call from mobiles, landlines, 400/800 numbers, 95xxx short numbers,
106 SMS gateways and withheld numbers. None of these is rejected: the raw form
is always kept and the number gets a class. See docs/FORMAT.md for the classes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

DEFAULT_REGION = "CN"

HIDDEN = "hidden"
MOBILE = "mobile"
LANDLINE = "landline"
SERVICE_400_800 = "service_400_800"
SHORT = "short"
SMS_PORT = "sms_port"
ALPHANUMERIC = "alphanumeric"
UNKNOWN = "unknown"

_HIDDEN_FORMS = {"", "-1", "-2", "-3", "-4", "null", "unknown", "private", "anonymous", "未知号码"}
_FORMATTING = re.compile(r"[\s\-().\u00a0\u3000]")
_SMS_PORT = re.compile(r"^106\d{5,17}$")
_SHORT = re.compile(r"^(?:95\d{3,6}|96\d{3,6}|1\d{2}|1[0-2]\d{3})$")

# Well-known short numbers (no public name lookup exists for these).
SHORT_NAMES = {
    "95188": "支付宝 Alipay",
    "95588": "工商银行 ICBC",
    "95533": "建设银行 CCB",
    "95599": "农业银行 ABC",
    "95566": "中国银行 BOC",
    "95555": "招商银行 CMB",
    "95017": "微信支付 WeChat Pay",
    "95118": "京东金融 JD Finance",
    "10086": "中国移动 China Mobile",
    "10010": "中国联通 China Unicom",
    "10000": "中国电信 China Telecom",
    "12315": "市场监管投诉 consumer complaints",
    "12345": "政务服务热线 government hotline",
    "12378": "金融监管投诉 financial regulator hotline",
    "12321": "网络不良与垃圾信息举报 spam reporting",
    "110": "报警 police",
}


def normalize(raw: str, region: str = DEFAULT_REGION) -> dict[str, Any]:
    """Return ``{"raw", "class", "e164"?, "region"?, "carrier"?, "name"?}`` for a number."""
    return dict(_normalize(raw, region))


# Rotating collectors mean thousands of numbers, each written several ways (spaces, +86,
# dashes); a large import has 5,000 or more forms, which a smaller cache keeps evicting.
@lru_cache(maxsize=32768)
def _normalize(raw: str, region: str) -> tuple[tuple[str, Any], ...]:
    result: dict[str, Any] = {"raw": raw}
    compact = _FORMATTING.sub("", raw.strip())
    if raw.strip().lower() in _HIDDEN_FORMS or compact.lower() in _HIDDEN_FORMS:
        result["class"] = HIDDEN
        return tuple(result.items())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?\d+", compact):
        result["class"] = ALPHANUMERIC if any(c.isalpha() for c in compact) else UNKNOWN
        return tuple(result.items())
    national = compact[3:] if compact.startswith("+86") else compact
    if (region == "CN" and not compact.startswith("+")) or compact.startswith("+86"):
        if _SMS_PORT.match(national):
            result["class"] = SMS_PORT
            return tuple(result.items())
        if _SHORT.match(national):
            result["class"] = SHORT
            if national in SHORT_NAMES:
                result["name"] = SHORT_NAMES[national]
            return tuple(result.items())
    result.update(_lookup(compact, region))
    return tuple(result.items())


def load_lookups() -> None:
    """Load the numbering, region and carrier data now rather than at the first number.

    They take about 0.4 s to import. A reading process forked for each imported file
    (:mod:`evidence.importers.readahead`) would otherwise load its own copy every
    time, while the appending process waits for its first records.
    """
    _lookup("+8613800138000", DEFAULT_REGION)


def _lookup(compact: str, region: str) -> dict[str, Any]:
    import phonenumbers
    from phonenumbers import PhoneNumberType, carrier, geocoder

    try:
        parsed = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException:
        return {"class": UNKNOWN}
    if not phonenumbers.is_valid_number(parsed):
        return {"class": UNKNOWN}
    kind = phonenumbers.number_type(parsed)
    classes = {
        PhoneNumberType.MOBILE: MOBILE,
        PhoneNumberType.FIXED_LINE: LANDLINE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE: LANDLINE,
        PhoneNumberType.SHARED_COST: SERVICE_400_800,
        PhoneNumberType.TOLL_FREE: SERVICE_400_800,
    }
    found: dict[str, Any] = {
        "class": classes.get(kind, UNKNOWN),
        "e164": phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
    }
    place = geocoder.description_for_number(parsed, "zh")
    operator = carrier.name_for_number(parsed, "zh")
    if place:
        found["region"] = place
    if operator:
        found["carrier"] = operator
    return found


def key(number: dict[str, Any]) -> str:
    """What identifies a caller for counting and filtering: E.164, else the raw digits."""
    e164 = number.get("e164")
    if e164:
        return e164 if type(e164) is str else str(e164)
    raw, kind = number.get("raw", ""), number.get("class")
    # Only a text class can be one of the service classes; anything else counts as none.
    return _raw_key(raw if type(raw) is str else str(raw), kind if type(kind) is str else None)


@lru_cache(maxsize=4096)
def _raw_key(raw: str, kind: str | None) -> str:
    """The key of a number without E.164 (a service number, say): the same few numbers
    come again and again in a log, and the formatting is taken out by a regular expression."""
    digits = _FORMATTING.sub("", raw)
    if kind in (SHORT, SMS_PORT):
        # 95188, +8695188 and 008695188 are one caller: key Chinese service numbers nationally.
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        digits = digits.removeprefix("+86")
    return digits


def matches(number: dict[str, Any], query: str) -> bool:
    """Does a stored number match what the user typed to filter by?"""
    wanted = normalize(query)
    if wanted.get("e164") and wanted["e164"] == number.get("e164"):
        return True
    return key(wanted) != "" and key(wanted) == key(number)
