"""GATEWAYS.md test vectors and wire-format rules, checked against the adapters' own functions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing_desk.domain.errors import GatewayDeclined, ValidationError
from billing_desk.domain.money import Money
from billing_desk.domain.topup_limits import check_amount, limits_for, method_for
from billing_desk.services.payments.gateways.paypal import approval_link, paypal_value
from billing_desk.services.payments.gateways.stripe import encode, stripe_amount
from billing_desk.services.payments.gateways.vnpay import (
    QUERYDR_REQUEST_ORDER,
    ascii_text,
    hmac_sha512,
    pay_query,
    pay_url,
    pipe_hash,
    vn_time,
)

PAY_PARAMS = {
    "vnp_Amount": "100000", "vnp_BankCode": "NCB", "vnp_Command": "pay", "vnp_CreateDate": "20210101070000",
    "vnp_CurrCode": "VND", "vnp_IpAddr": "127.0.0.1", "vnp_Locale": "vn", "vnp_OrderInfo": "Thanh toan don hang :5",
    "vnp_OrderType": "other", "vnp_ReturnUrl": "https://example.com/return?x=1&y=a b",
    "vnp_TmnCode": "TEST_TMN_CODE", "vnp_TxnRef": "ref1234567", "vnp_Version": "2.1.0",
}
PAY_STRING = (
    "vnp_Amount=100000&vnp_BankCode=NCB&vnp_Command=pay&vnp_CreateDate=20210101070000&vnp_CurrCode=VND"
    "&vnp_IpAddr=127.0.0.1&vnp_Locale=vn&vnp_OrderInfo=Thanh+toan+don+hang+%3A5&vnp_OrderType=other"
    "&vnp_ReturnUrl=https%3A%2F%2Fexample.com%2Freturn%3Fx%3D1%26y%3Da+b&vnp_TmnCode=TEST_TMN_CODE"
    "&vnp_TxnRef=ref1234567&vnp_Version=2.1.0"
)
PAY_HASH = ("892d33927a6b6f3d800d4f8c78066cb8020782fb58b580ef3ee901c540805002"
            "d659dc41d1dd33149a2f24ee810de7b433c8362bc462813440cc0522733f0498")
QUERYDR_HASH = ("ac23f7e0db3fc8bc6dc83350725b891aa921ec7a83d1a370978d314457eeda17"
                "6ff26a87bd4e13dc896c24890238b29fadf033080a07aa52abafa830cd2eb565")


def test_vnpay_pay_hash_vector():
    assert pay_query(PAY_PARAMS) == PAY_STRING
    assert hmac_sha512("test_secret", PAY_STRING) == PAY_HASH
    assert pay_url("https://pay.example/vpcpay.html", PAY_PARAMS, "test_secret") == (
        f"https://pay.example/vpcpay.html?{PAY_STRING}&vnp_SecureHash={PAY_HASH}")


def test_vnpay_pay_hash_drops_empty_values_and_the_hash_fields():
    noisy = {**PAY_PARAMS, "vnp_Bill_Mobile": "", "vnp_SecureHash": "x", "vnp_SecureHashType": "HmacSHA512",
             "vnp_Inv_Email": None}
    assert pay_query(noisy) == PAY_STRING


def test_vnpay_querydr_hash_vector():
    body = {"vnp_RequestId": "REQUEST123456", "vnp_Version": "2.1.0", "vnp_Command": "querydr",
            "vnp_TmnCode": "TEST_TMN_CODE", "vnp_TxnRef": "TXN123456789", "vnp_TransactionDate": "20231221103000",
            "vnp_CreateDate": "20231221103000", "vnp_IpAddr": "127.0.0.1", "vnp_OrderInfo": "Test order query",
            "vnp_TransactionNo": "not hashed"}
    assert pipe_hash("test_secret", body, QUERYDR_REQUEST_ORDER) == QUERYDR_HASH


def test_vnpay_dates_are_gmt7_and_order_info_is_plain_ascii():
    assert vn_time(datetime(2021, 1, 1, 0, 0, tzinfo=UTC)) == "20210101070000"
    assert ascii_text("Nạp tiền đơn hàng #5 – Đà Nẵng!") == "Nap tien don hang 5 Da Nang"


def test_stripe_encoding_indexes_lists_and_spells_booleans():
    assert encode({"line_items": [{"price_data": {"unit_amount": 1500, "currency": "jpy"}, "quantity": 2}],
                   "metadata": {"payment_id": 7}, "flag": True, "off": False, "skip": None}) == [
        ("line_items[0][price_data][unit_amount]", "1500"), ("line_items[0][price_data][currency]", "jpy"),
        ("line_items[0][quantity]", "2"), ("metadata[payment_id]", "7"), ("flag", "true"), ("off", "false")]


def test_stripe_amounts_in_its_minor_units():
    assert stripe_amount(Money(500, "JPY")) == 500
    assert stripe_amount(Money(500000, "VND")) == 500000
    assert stripe_amount(Money(1000, "USD")) == 1000
    assert stripe_amount(Money(1500, "HUF")) == 150000  # HUF is two-decimal at Stripe


def test_paypal_amount_strings():
    assert paypal_value(Money(1234, "USD")) == "12.34"
    assert paypal_value(Money(2500, "EUR")) == "25.00"
    assert paypal_value(Money(1500, "JPY")) == "1500"
    assert paypal_value(Money(9000, "HUF")) == "9000"
    assert paypal_value(Money(800, "TWD")) == "800"


def test_paypal_approval_link_from_either_rel():
    assert approval_link({"links": [{"rel": "self", "href": "a"}, {"rel": "approve", "href": "b"}]}) == "b"
    assert approval_link({"links": [{"rel": "payer-action", "href": "c"}]}) == "c"
    assert approval_link({"links": []}) is None


def test_routing_and_limits():
    assert method_for("VND").value == "vnpay" and method_for("JPY").value == "stripe"
    assert method_for("EUR").value == "paypal"
    with pytest.raises(ValidationError, match="GBP"):
        method_for("GBP")
    assert method_for("GBP", ["USD", "GBP"]).value == "paypal"
    vnd = limits_for("VND")
    assert (vnd.minimum, vnd.maximum) == (Money(500_000, "VND"), Money(999_999_999, "VND"))
    assert limits_for("JPY").minimum == Money(3000, "JPY")
    assert limits_for("USD").minimum == Money(2500, "USD") == Money(2500, "USD")
    assert all(vnd.minimum <= p <= vnd.maximum for p in vnd.presets)
    check_amount(Money(500_000, "VND"), vnd)
    with pytest.raises(ValidationError):
        check_amount(Money(1_000_000_000, "VND"), vnd)
    assert limits_for("GBP", ["GBP"], {"GBP": Money(1000, "GBP")}).minimum == Money(1000, "GBP")


def test_vnpay_refuses_amounts_outside_its_range():
    from billing_desk.services.payments.gateways.base import CheckoutRequest
    from billing_desk.services.payments.gateways.vnpay import VNPayGateway

    gateway = VNPayGateway({"tmn_code": "TESTCODE", "hash_secret": "s3cret", "return_url": "https://x/return"})
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(GatewayDeclined):
        gateway.create_checkout(CheckoutRequest(1, Money(1_000_000_000, "VND"), "k1", "C1", "a@b.c", now, now))
    checkout = gateway.create_checkout(CheckoutRequest(1, Money(500_000, "VND"), "k1", "C1", "a@b.c", now, now))
    assert "vnp_Amount=50000000&" in checkout.url and "vnp_Locale=vn" in checkout.url
    assert "vnp_SecureHashType" not in checkout.url and checkout.reference == "k1"
    assert checkout.data == {"create_date": "20260101070000"}
