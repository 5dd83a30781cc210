"""The sandbox's VNPay: the signed payment page and the ``querydr`` API (GATEWAYS.md §1).

Hashes are recomputed here independently of the adapter (``urlencode`` of the sorted pairs
for the pay URL; the documented ``|`` orders for querydr), so a mistake on either side shows.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from billing_desk.sandbox.state import Paid, Req, Resp, SandboxState

_VN = ZoneInfo("Asia/Ho_Chi_Minh")
_REQ_ORDER = "vnp_RequestId vnp_Version vnp_Command vnp_TmnCode vnp_TxnRef vnp_TransactionDate vnp_CreateDate " \
             "vnp_IpAddr vnp_OrderInfo"
_RESP_ORDER = "vnp_ResponseId vnp_Command vnp_ResponseCode vnp_Message vnp_TmnCode vnp_TxnRef vnp_Amount " \
              "vnp_BankCode vnp_PayDate vnp_TransactionNo vnp_TransactionType vnp_TransactionStatus " \
              "vnp_OrderInfo vnp_PromotionCode vnp_PromotionAmount"
_REQUIRED = ("vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_Amount", "vnp_CurrCode", "vnp_TxnRef",
             "vnp_OrderInfo", "vnp_OrderType", "vnp_Locale", "vnp_ReturnUrl", "vnp_IpAddr", "vnp_CreateDate")
_SAFE = re.compile(r"^[A-Za-z0-9 _.\-:]*$")
_STAMP = re.compile(r"^\d{14}$")


def _sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha512).hexdigest()


def _now_vn() -> str:
    return datetime.now(_VN).strftime("%Y%m%d%H%M%S")


def check_pay(state: SandboxState, query: dict[str, str]) -> tuple[str, str]:
    """Validate a pay URL's parameters; returns (response code, message). '00' is accepted."""
    creds = state.credentials
    if "vnp_SecureHashType" in query:
        return "03", "vnp_SecureHashType must not be sent in 2.1.0"
    signed = sorted((k, v) for k, v in query.items() if k.startswith("vnp_") and k != "vnp_SecureHash" and v != "")
    if not hmac.compare_digest(_sign(creds.vnpay_hash_secret, urlencode(signed)),
                               query.get("vnp_SecureHash", "").lower()):
        return "97", "Invalid signature"
    missing = [k for k in _REQUIRED if not query.get(k)]
    if missing:
        return "03", f"Missing {', '.join(missing)}"
    if query["vnp_TmnCode"] != creds.vnpay_tmn_code:
        return "02", "Invalid TmnCode"
    problems = [
        query["vnp_Version"] != "2.1.0" and "vnp_Version must be 2.1.0",
        query["vnp_Command"] != "pay" and "vnp_Command must be pay",
        query["vnp_CurrCode"] != "VND" and "vnp_CurrCode must be VND",
        query["vnp_Locale"] not in ("vn", "en") and "vnp_Locale must be vn or en",
        not (query["vnp_Amount"].isdigit() and int(query["vnp_Amount"]) % 100 == 0) and "vnp_Amount must be VND x 100",
        not _SAFE.match(query["vnp_OrderInfo"]) and "vnp_OrderInfo must be plain ASCII without special characters",
        not _STAMP.match(query["vnp_CreateDate"]) and "vnp_CreateDate must be yyyyMMddHHmmss",
        query.get("vnp_ExpireDate") and not _STAMP.match(query["vnp_ExpireDate"]) and "bad vnp_ExpireDate",
    ]
    wrong = [p for p in problems if p]
    if wrong:
        return "03", "; ".join(str(p) for p in wrong)
    amount = int(query["vnp_Amount"]) // 100
    if not 5_000 <= amount < 1_000_000_000:
        return "03", "Amount must be from 5,000 to under 1,000,000,000 VND"
    if query.get("vnp_ExpireDate") and query["vnp_ExpireDate"] < _now_vn():
        return "11", "Payment window expired"
    return "00", "OK"


def open_payment(state: SandboxState, query: dict[str, str]) -> tuple[str, str, dict[str, Any] | None]:
    """What opening the payment page does: check it and register the transaction."""
    code, message = check_pay(state, query)
    if code != "00":
        return code, message, None
    with state.lock:
        ref = query["vnp_TxnRef"]
        txn = state.vnpay.get(ref)
        if txn is None:
            txn = {"ref": ref, "amount": query["vnp_Amount"], "create_date": query["vnp_CreateDate"],
                   "order_info": query["vnp_OrderInfo"], "status": "01", "transaction_no": "", "pay_date": "",
                   "return_url": query["vnp_ReturnUrl"]}
            state.vnpay[ref] = txn
        elif txn["amount"] != query["vnp_Amount"] or txn["create_date"] != query["vnp_CreateDate"]:
            return "03", "vnp_TxnRef was already used today for another payment", None
        return "00", "OK", txn


def settle(state: SandboxState, ref: str, pay: bool, paid: Paid | None = None) -> bool:
    with state.lock:
        txn = state.vnpay.get(ref)
        if txn is None or txn["status"] != "01":
            return False
        if pay and paid is not None:  # VND only: another currency is not something VNPay can report
            txn["amount"] = str(int(Decimal(paid.amount)) * 100)
        txn["status"] = "00" if pay else "02"
        txn["transaction_no"] = str(14_000_000 + len(state.vnpay)) if pay else ""
        txn["pay_date"] = _now_vn() if pay else ""
        return True


def querydr(state: SandboxState, req: Req) -> Resp:
    creds = state.credentials
    if not (req.header("content-type") or "").startswith("application/json"):
        return Resp(400, {"vnp_ResponseCode": "03", "vnp_Message": "Content-Type must be application/json"})
    body = req.json()
    if not isinstance(body, dict):
        return _answer(state, {"vnp_ResponseCode": "03", "vnp_Message": "Body must be a JSON object"})
    expected = _sign(creds.vnpay_hash_secret, "|".join(str(body.get(k, "")) for k in _REQ_ORDER.split()))
    if not hmac.compare_digest(expected, str(body.get("vnp_SecureHash", "")).lower()):
        return _answer(state, {"vnp_ResponseCode": "97", "vnp_Message": "Invalid checksum"})
    if body.get("vnp_TmnCode") != creds.vnpay_tmn_code:
        return _answer(state, {"vnp_ResponseCode": "02", "vnp_Message": "Invalid TmnCode"})
    if body.get("vnp_Command") != "querydr" or body.get("vnp_Version") != "2.1.0" \
            or not _STAMP.match(str(body.get("vnp_CreateDate", ""))):
        return _answer(state, {"vnp_ResponseCode": "03", "vnp_Message": "Invalid data format"})
    with state.lock:
        request_id = str(body.get("vnp_RequestId", ""))
        if not request_id or request_id in state.vnpay_request_ids:
            return _answer(state, {"vnp_ResponseCode": "94", "vnp_Message": "Duplicate request"})
        state.vnpay_request_ids.add(request_id)
        txn = state.vnpay.get(str(body.get("vnp_TxnRef")))
        if txn is None or txn["create_date"] != body.get("vnp_TransactionDate"):
            return _answer(state, {"vnp_ResponseCode": "91", "vnp_Message": "Transaction not found",
                                   "vnp_TxnRef": body.get("vnp_TxnRef")})
        return _answer(state, {
            "vnp_ResponseCode": "00", "vnp_Message": "QueryDR Success", "vnp_TxnRef": txn["ref"],
            # A JSON number, as VNPay may send: the checksum uses it as received.
            "vnp_Amount": int(txn["amount"]), "vnp_BankCode": "NCB", "vnp_PayDate": txn["pay_date"],
            "vnp_TransactionNo": txn["transaction_no"], "vnp_TransactionType": "01",
            "vnp_TransactionStatus": txn["status"], "vnp_OrderInfo": txn["order_info"],
        })


def forged(state: SandboxState, body: dict[str, Any]) -> Resp:
    """``body`` turned into a "paid" answer and signed with a secret that is not the merchant's,
    as a tampering proxy or a misdirected answer would look."""
    fake = {**body, "vnp_ResponseCode": "00", "vnp_TransactionStatus": "00"}
    fake["vnp_SecureHash"] = _sign("not-" + state.credentials.vnpay_hash_secret,
                                   "|".join("" if fake.get(k) is None else str(fake[k]) for k in _RESP_ORDER.split()))
    return Resp(200, fake)


def _answer(state: SandboxState, fields: dict[str, Any]) -> Resp:
    body = {"vnp_ResponseId": uuid.uuid4().hex, "vnp_Command": "querydr",
            "vnp_TmnCode": state.credentials.vnpay_tmn_code, **fields}
    body["vnp_SecureHash"] = _sign(state.credentials.vnpay_hash_secret,
                                   "|".join("" if body.get(k) is None else str(body[k]) for k in _RESP_ORDER.split()))
    return Resp(200, body)
