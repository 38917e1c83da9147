"""Phone numbers: the classification table of ../shared/formats.md §6."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence import phone

CN_MOBILE = "+8613812345678"
SHANGHAI = "+862112345678"


@pytest.mark.parametrize(
    ("raw", "kind", "e164"),
    [
        # mobiles, in every form a phone or a person writes them
        ("+8613812345678", phone.MOBILE, CN_MOBILE),
        ("13812345678", phone.MOBILE, CN_MOBILE),
        ("008613812345678", phone.MOBILE, CN_MOBILE),
        ("138-1234-5678", phone.MOBILE, CN_MOBILE),
        ("138 1234 5678", phone.MOBILE, CN_MOBILE),
        ("+86 138 1234 5678", phone.MOBILE, CN_MOBILE),
        ("0086 138 1234 5678", phone.MOBILE, CN_MOBILE),
        ("1795113812345678", phone.MOBILE, CN_MOBILE),  # IP-dial prefix
        ("18612345678", phone.MOBILE, "+8618612345678"),
        ("17712345678", phone.MOBILE, "+8617712345678"),
        ("19912345678", phone.MOBILE, "+8619912345678"),
        ("16612345678", phone.MOBILE, "+8616612345678"),
        ("19212345678", phone.MOBILE, "+8619212345678"),
        # landlines
        ("02112345678", phone.LANDLINE, SHANGHAI),
        ("021-12345678", phone.LANDLINE, SHANGHAI),
        ("(021)12345678", phone.LANDLINE, SHANGHAI),
        ("+86 (0)21 1234 5678", phone.LANDLINE, SHANGHAI),
        # 400 / 800 service numbers
        ("4001234567", phone.SERVICE_400_800, "+864001234567"),
        ("400-123-4567", phone.SERVICE_400_800, "+864001234567"),
        ("8001234567", phone.SERVICE_400_800, "+868001234567"),
        # other countries keep their own E.164
        ("+85291234567", phone.MOBILE, "+85291234567"),
        ("0085291234567", phone.MOBILE, "+85291234567"),
    ],
)
def test_numbers_with_e164(raw, kind, e164):
    number = phone.normalize(raw)
    assert number["raw"] == raw
    assert number["class"] == kind
    assert number["e164"] == e164
    assert phone.key(number) == e164


@pytest.mark.parametrize(
    ("raw", "kind", "name"),
    [
        ("95188", phone.SHORT, "支付宝 Alipay"),
        ("95588", phone.SHORT, "工商银行 ICBC"),
        ("+8695188", phone.SHORT, "支付宝 Alipay"),
        ("10086", phone.SHORT, "中国移动 China Mobile"),
        ("12345", phone.SHORT, "政务服务热线 government hotline"),
        ("110", phone.SHORT, "报警 police"),
        ("95123", phone.SHORT, None),  # a short number with no known name
        # 106 SMS gateways, classified before any landline lookup
        ("1069012345", phone.SMS_PORT, None),  # the trap: also a "valid" Beijing landline
        ("10690123456789", phone.SMS_PORT, None),
        ("106575257777", phone.SMS_PORT, None),
        ("+861069012345", phone.SMS_PORT, None),
        ("00861069012345", phone.SMS_PORT, None),
        ("1069 0123 45", phone.SMS_PORT, None),
        # withheld and unknown callers
        ("-1", phone.HIDDEN, None),
        ("-2", phone.HIDDEN, None),
        ("", phone.HIDDEN, None),
        ("  ", phone.HIDDEN, None),
        ("Unknown", phone.HIDDEN, None),
        ("null", phone.HIDDEN, None),
        ("未知号码", phone.HIDDEN, None),
        # alphanumeric senders
        ("OTP Bank", phone.ALPHANUMERIC, None),
        ("某贷", phone.ALPHANUMERIC, None),
        # digits that are no number we know
        ("12", phone.UNKNOWN, None),
        ("086-21-12345678", phone.UNKNOWN, None),
        ("+-+", phone.UNKNOWN, None),
    ],
)
def test_numbers_without_e164(raw, kind, name):
    number = phone.normalize(raw)
    assert number["raw"] == raw
    assert number["class"] == kind
    assert "e164" not in number
    assert number.get("name") == name


def test_sms_port_trap_is_a_landline_for_phonenumbers():
    """The reason 106 numbers are classified first: the library calls this one a landline."""
    import phonenumbers

    parsed = phonenumbers.parse("1069012345", "CN")
    assert phonenumbers.is_valid_number(parsed)
    assert phone.normalize("1069012345")["class"] == phone.SMS_PORT


def test_region_and_carrier_lookup():
    number = phone.normalize("13812345678")
    assert number["region"] == "江苏省连云港市"
    assert number["carrier"] == "中国移动"
    assert phone.normalize("02112345678")["region"] == "上海市"
    assert "carrier" not in phone.normalize("02112345678")


def test_normalize_returns_a_fresh_dict_each_time():
    first = phone.normalize("13812345678")
    first["class"] = "tampered"
    assert phone.normalize("13812345678")["class"] == phone.MOBILE


def test_key_falls_back_to_national_digits_for_service_numbers():
    for raw in ("1069 0123 45", "+861069012345", "00861069012345"):
        assert phone.key(phone.normalize(raw)) == "1069012345"
    for raw in ("95188", "+86 95188", "008695188"):
        assert phone.key(phone.normalize(raw)) == "95188"
    assert phone.key(phone.normalize("OTP Bank")) == "OTPBank"


def _reference_key(number: dict) -> str:
    """The key as first written, without the cache: E.164, else the raw digits."""
    if number.get("e164"):
        return str(number["e164"])
    digits = phone._FORMATTING.sub("", str(number.get("raw", "")))
    if number.get("class") in (phone.SHORT, phone.SMS_PORT):
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        digits = digits.removeprefix("+86")
    return digits


_VALUE = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.text(alphabet="+0-9 ()-.sms_portshortmobileX86", max_size=14),
    st.sampled_from([phone.SHORT, phone.SMS_PORT, phone.MOBILE, ""]),
    st.lists(st.integers(0, 9), max_size=2),
)


@given(st.dictionaries(st.sampled_from(["e164", "raw", "class", "region"]), _VALUE, max_size=4))
def test_the_key_of_any_stored_number_is_the_reference_key(number: dict) -> None:
    # Numbers in a log are whatever was recorded (imports, old entries, amendments).
    assert phone.key(number) == _reference_key(number)
    assert phone.key(number) == _reference_key(number)  # the second time from the cache


@pytest.mark.parametrize(
    ("stored", "query", "expected"),
    [
        ("+86 138 1234 5678", "13812345678", True),
        ("008613812345678", "138-1234-5678", True),
        ("13812345678", "13812345679", False),
        ("1069012345", "1069 0123 45", True),
        ("1069012345", "+86 1069 0123 45", True),
        ("1069012345", "1069012346", False),
        ("95188", "+8695188", True),
        ("95188", "95588", False),
    ],
)
def test_matches(stored, query, expected):
    assert phone.matches(phone.normalize(stored), query) is expected
