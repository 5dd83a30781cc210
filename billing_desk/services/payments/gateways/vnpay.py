"""VNPay 2.1.0 (VND): the signed payment URL and the ``querydr`` status query.

GATEWAYS.md §1 is followed to the letter: the pay hash is HMAC-SHA512 over the sorted,
form-encoded query string with empty values dropped (§1.3); querydr is a JSON POST whose
checksum is the ``|``-joined raw values in the documented order, and whose answer's checksum
is verified before it is believed (§1.6). Dates are GMT+7 whatever the PC's zone; the
amount is VND × 100; ``vnp_TxnRef`` is our idempotency key (unique, so unique per day).
Creating the URL makes no network call.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.errors import GatewayDeclined, GatewayUnavailable, OutcomeUnknown, SuspectAnswer
from billing_desk.services.payments.gateways.base import (
    Checkout,
    CheckoutRequest,
    HttpCaller,
    Outcome,
    PaymentRef,
    StatusAnswer,
    json_of,
    require,
    retry_policy_of,
    reveal,
    status_unknown,
    timeout_of,
)

VN_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
VERSION = "2.1.0"
SANDBOX_PAYMENT_URL = "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"
SANDBOX_API_URL = "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction"
QUERYDR_REQUEST_ORDER = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef",
                         "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo")
QUERYDR_RESPONSE_ORDER = ("vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode",
                          "vnp_TxnRef", "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo",
                          "vnp_TransactionType", "vnp_TransactionStatus", "vnp_OrderInfo",
                          "vnp_PromotionCode", "vnp_PromotionAmount")
_UNSAFE = re.compile(r"[^A-Za-z0-9 _.\-:]")
MAX_VND = 1_000_000_000  # VNPay takes 5,000 up to (not including) one billion VND
# GATEWAYS.md §1, vnp_TransactionStatus: error, reversed, refund in progress or sent, fraud,
# refund rejected. Only these fail a payment.
FAILED_STATUSES = frozenset({"02", "04", "05", "06", "07", "09"})


def hmac_sha512(secret: str, message: str) -> str:
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha512).hexdigest()


def vn_time(moment: datetime) -> str:
    """``yyyyMMddHHmmss`` in GMT+7, whatever the PC's time zone."""
    return moment.astimezone(VN_ZONE).strftime("%Y%m%d%H%M%S")


def ascii_text(text: str, limit: int = 255) -> str:
    """VNPay wants Vietnamese without diacritics or special characters (đ becomes d)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"\s+", " ", _UNSAFE.sub(" ", plain)).strip()[:limit]


def pay_query(params: Mapping[str, Any]) -> str:
    """The sorted, form-encoded query string that is both hashed and sent (§1.3 steps 1-3)."""
    items = sorted((k, str(v)) for k, v in params.items()
                   if k not in ("vnp_SecureHash", "vnp_SecureHashType") and v is not None and str(v) != "")
    return "&".join(f"{k}={quote_plus(v)}" for k, v in items)


def pay_url(base: str, params: Mapping[str, Any], secret: str) -> str:
    query = pay_query(params)
    return f"{base}?{query}&vnp_SecureHash={hmac_sha512(secret, query)}"


def pipe_hash(secret: str, values: Mapping[str, Any], order: tuple[str, ...]) -> str:
    """querydr/refund checksums: raw values joined by ``|`` in a fixed order, absent as ''."""
    return hmac_sha512(secret, "|".join("" if values.get(k) is None else str(values[k]) for k in order))


class VNPayGateway:
    method = PaymentMethod.VNPAY

    def __init__(self, config: Mapping[str, Any]) -> None:
        require(config, "vnpay", "tmn_code", "hash_secret", "return_url")
        self._config = config
        self.tmn_code = reveal(config["tmn_code"]).strip()
        self.payment_url = reveal(config.get("payment_url") or SANDBOX_PAYMENT_URL)
        self.api_url = reveal(config.get("api_url") or SANDBOX_API_URL)
        self.locale = str(config.get("locale", "vn"))
        self.ip_addr = str(config.get("ip_addr", "127.0.0.1"))
        self.http = HttpCaller("VNPay", timeout_of(config), retry_policy_of(config), lambda: [self._secret()])

    def _secret(self) -> str:
        return reveal(self._config["hash_secret"]).strip()  # §1.8: whitespace breaks the hash

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        amount = request.amount
        if amount.currency != "VND":
            raise GatewayDeclined(f"VNPay takes VND only, not {amount.currency}.")
        if not 5_000 <= amount.minor < MAX_VND:
            raise GatewayDeclined("VNPay takes from 5,000 VND up to under 1,000,000,000 VND.")
        create_date = vn_time(request.created_at)
        params = {
            "vnp_Version": VERSION, "vnp_Command": "pay", "vnp_TmnCode": self.tmn_code,
            "vnp_Amount": str(amount.minor * 100), "vnp_CurrCode": "VND", "vnp_TxnRef": request.idempotency_key,
            "vnp_OrderInfo": ascii_text(f"Nap tien tai khoan {request.customer_account} ma {request.payment_id}"),
            "vnp_OrderType": "other", "vnp_Locale": self.locale, "vnp_ReturnUrl": reveal(self._config["return_url"]),
            "vnp_IpAddr": self.ip_addr, "vnp_CreateDate": create_date,
            "vnp_ExpireDate": vn_time(request.expires_at),
        }
        url = pay_url(self.payment_url, params, self._secret())
        return Checkout(reference=request.idempotency_key, url=url, data={"create_date": create_date})

    def fetch_status(self, payment: PaymentRef) -> StatusAnswer:
        transaction_date = str(payment.data.get("create_date") or vn_time(payment.created_at))

        def make() -> dict[str, Any]:
            # A fresh vnp_RequestId on every attempt: VNPay refuses one seen the same day.
            body: dict[str, Any] = {
                "vnp_RequestId": uuid.uuid4().hex, "vnp_Version": VERSION, "vnp_Command": "querydr",
                "vnp_TmnCode": self.tmn_code, "vnp_TxnRef": payment.reference,
                "vnp_OrderInfo": ascii_text(f"Kiem tra giao dich {payment.payment_id}"),
                "vnp_TransactionDate": transaction_date, "vnp_CreateDate": vn_time(datetime.now(VN_ZONE)),
                "vnp_IpAddr": self.ip_addr,
            }
            body["vnp_SecureHash"] = pipe_hash(self._secret(), body, QUERYDR_REQUEST_ORDER)
            return {"json": body}

        response = self.http.call("POST", self.api_url, make, safe=True)
        if response.status_code != 200:
            raise status_unknown("VNPay", response)
        return self._interpret(json_of("VNPay", response), payment)

    def _interpret(self, body: dict[str, Any], payment: PaymentRef) -> StatusAnswer:
        given = str(body.get("vnp_SecureHash", "")).lower()
        wanted = pipe_hash(self._secret(), body, QUERYDR_RESPONSE_ORDER)
        # Bytes: compare_digest refuses a str with non-ASCII characters (TypeError).
        if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), wanted.encode("ascii")):
            raise SuspectAnswer("VNPay's answer has a wrong checksum (not signed with our hash secret); "
                                "it was not believed. Check the payment in the VNPay merchant admin.")
        code = str(body.get("vnp_ResponseCode", ""))
        if code == "91":
            return StatusAnswer(Outcome.PENDING, "VNPay has no such transaction yet (not opened by the customer)",
                                found=False)
        if code == "94":
            raise OutcomeUnknown("VNPay refused a repeated query within its time limit; asking again later.")
        if code in ("02", "97"):
            raise GatewayUnavailable(f"VNPay refused the query (code {code}): check [gateways.vnpay] "
                                     "tmn_code and hash_secret.")
        if code != "00":
            raise OutcomeUnknown(f"VNPay could not answer the query (code {code}); asking again later.")
        if str(body.get("vnp_TmnCode", "")) != self.tmn_code:
            raise SuspectAnswer("VNPay answered for another terminal code; the answer was not believed.")
        if str(body.get("vnp_TxnRef", "")) != payment.reference:
            # A correctly signed answer about another transaction (replayed, or misrouted)
            # would otherwise credit this payment with someone else's money.
            raise SuspectAnswer(f"VNPay answered about transaction {str(body.get('vnp_TxnRef'))[:40]!r}, not "
                                f"{payment.reference}; the answer was not believed.")
        status = str(body.get("vnp_TransactionStatus", ""))
        if status == "01":
            return StatusAnswer(Outcome.PENDING)
        if status in FAILED_STATUSES:
            return StatusAnswer(Outcome.FAILED, f"VNPay transaction status {status}")
        if status != "00":
            # Failing is final; a status VNPay does not document may hide a paid transaction.
            raise OutcomeUnknown(f"VNPay answered an unknown transaction status {status[:20]!r}; "
                                 "asking again later.")
        if str(body.get("vnp_Amount", "")) != str(payment.amount.minor * 100):
            raise SuspectAnswer(f"VNPay reports {body.get('vnp_Amount')} (×100) paid, not {payment.amount}; "
                                "check the VNPay merchant admin.")
        return StatusAnswer(Outcome.PAID)
