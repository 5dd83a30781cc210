"""The sandbox speaks the documented protocols strictly enough to catch a wrong client."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import requests

from billing_desk.domain.money import Money
from billing_desk.sandbox import SandboxCredentials
from billing_desk.services.payments.gateways.base import CheckoutRequest
from billing_desk.services.payments.gateways.stripe import API_VERSION
from billing_desk.services.payments.gateways.vnpay import VNPayGateway
from tests.support.payments import gateway_settings

CREDS = SandboxCredentials()


def _request(amount: Money, key: str = "k1") -> CheckoutRequest:
    now = datetime.now(UTC)
    return CheckoutRequest(1, amount, key, "C00000001", "a@example.com", now, now + timedelta(minutes=45))


def test_vnpay_page_checks_the_signature_and_serves_pay_and_cancel(sandbox):
    gateway = VNPayGateway(gateway_settings(sandbox.url)["vnpay"])
    url = gateway.create_checkout(_request(Money(500_000, "VND"))).url
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "500,000 VND" in page.text
    buttons = re.findall(r'action="([^"]+)"', page.text)
    assert [b.rsplit("/", 1)[1] for b in buttons] == ["pay", "cancel"]
    tampered = url.replace("vnp_Amount=50000000", "vnp_Amount=10000000")
    refused = requests.get(tampered, timeout=5)
    assert refused.status_code == 400 and "code 97" in refused.text
    clicked = requests.post(sandbox.url + buttons[0], timeout=5)
    assert clicked.status_code == 200 and "Paid" in clicked.text


def test_vnpay_querydr_refuses_a_bad_checksum_and_a_reused_request_id(sandbox):
    api = f"{sandbox.url}/vnpay/merchant_webapi/api/transaction"
    body = {"vnp_RequestId": "r1", "vnp_Version": "2.1.0", "vnp_Command": "querydr",
            "vnp_TmnCode": CREDS.vnpay_tmn_code,
            "vnp_TxnRef": "x", "vnp_TransactionDate": "20260101070000", "vnp_CreateDate": "20260101070000",
            "vnp_IpAddr": "127.0.0.1", "vnp_OrderInfo": "q", "vnp_SecureHash": "0" * 128}
    assert requests.post(api, json=body, timeout=5).json()["vnp_ResponseCode"] == "97"
    from billing_desk.services.payments.gateways.vnpay import QUERYDR_REQUEST_ORDER, pipe_hash

    body["vnp_SecureHash"] = pipe_hash(CREDS.vnpay_hash_secret, body, QUERYDR_REQUEST_ORDER)
    assert requests.post(api, json=body, timeout=5).json()["vnp_ResponseCode"] == "91"
    assert requests.post(api, json=body, timeout=5).json()["vnp_ResponseCode"] == "94"


def test_stripe_key_idempotency_and_validation(sandbox):
    api = f"{sandbox.url}/stripe/v1/checkout/sessions"
    form = [("mode", "payment"), ("line_items[0][price_data][currency]", "jpy"),
            ("line_items[0][price_data][unit_amount]", "3000"),
            ("line_items[0][price_data][product_data][name]", "Top-up"), ("line_items[0][quantity]", "1"),
            ("success_url", "https://x/ok"), ("expires_at", str(int(datetime.now(UTC).timestamp()) + 3600))]
    good = {"Authorization": f"Bearer {CREDS.stripe_secret_key}", "Stripe-Version": API_VERSION,
            "Idempotency-Key": "key-1"}
    assert requests.post(api, data=form, headers={**good, "Authorization": "Bearer sk_test_wrong"},
                         timeout=5).status_code == 401
    first = requests.post(api, data=form, headers=good, timeout=5)
    again = requests.post(api, data=form, headers=good, timeout=5)
    assert first.status_code == again.status_code == 200 and first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = requests.post(api, data=[*form[:2], ("line_items[0][price_data][unit_amount]", "4000"), *form[3:]],
                            headers=good, timeout=5)
    assert changed.status_code == 400 and changed.json()["error"]["type"] == "idempotency_error"
    small = [(k, "10" if k.endswith("unit_amount]") else v) for k, v in form]
    too_small = requests.post(api, data=small, headers={**good, "Idempotency-Key": "key-2"}, timeout=5)
    assert too_small.json()["error"]["code"] == "amount_too_small"
    unindexed = [(k.replace("[0]", "[]"), v) for k, v in form]
    refused = requests.post(api, data=unindexed, headers={**good, "Idempotency-Key": "key-3"}, timeout=5)
    assert refused.status_code == 400


def test_paypal_needs_a_token_json_and_whole_yen(sandbox):
    base = f"{sandbox.url}/paypal"
    assert requests.post(f"{base}/v1/oauth2/token", auth=(CREDS.paypal_client_id, "wrong"),
                         data={"grant_type": "client_credentials"}, timeout=5).status_code == 401
    token = requests.post(f"{base}/v1/oauth2/token", auth=(CREDS.paypal_client_id, CREDS.paypal_client_secret),
                          data={"grant_type": "client_credentials"}, timeout=5).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}", "PayPal-Request-Id": "r-1"}
    order = {"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "JPY", "value": "1500.00"}}]}
    decimals = requests.post(f"{base}/v2/checkout/orders", json=order, headers=auth, timeout=5)
    assert decimals.status_code == 422 and decimals.json()["details"][0]["issue"] == "DECIMAL_PRECISION"
    order["purchase_units"][0]["amount"]["value"] = "1500"
    created = requests.post(f"{base}/v2/checkout/orders", json=order, headers=auth, timeout=5)
    assert created.status_code == 201 and created.json()["links"][1]["rel"] == "approve"
    oid = created.json()["id"]
    no_type = requests.post(f"{base}/v2/checkout/orders/{oid}/capture", data=b"", headers=auth, timeout=5)
    assert no_type.status_code == 415
    early = requests.post(f"{base}/v2/checkout/orders/{oid}/capture", json={}, headers=auth, timeout=5)
    assert early.json()["details"][0]["issue"] == "ORDER_NOT_APPROVED"
    assert requests.get(f"{base}/v2/checkout/orders/{oid}", headers={"Authorization": "Bearer nope"},
                        timeout=5).status_code == 401


def test_sandbox_gateway_command_prints_its_url_and_config():
    proc = subprocess.Popen([sys.executable, "-m", "billing_desk", "sandbox-gateway", "--port", "0"],
                            stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first).group(0)
        assert requests.get(f"{url}/sandbox/state", timeout=5).json()["vnpay"] == 0
        lines = [proc.stdout.readline() for _ in range(6)]
        assert any(line.startswith("[gateways.vnpay]") for line in lines)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
