"""Nexmo Messages API asynchronous error codes (protocols.md 1.5), used in status ``error.code``/``reason``."""
from __future__ import annotations

# The codes the code names; each is defined here only.
THROTTLED = 1000
INVALID_PARAMS = 1020
INVALID_TAG = 1021
INTERNAL_ERROR = 1030
INVALID_MESSAGE = 1040
COMMUNICATION_FAILED = 1100
ILLEGAL_SENDER = 1120
FACILITY_NOT_ALLOWED = 1140
TOO_MANY_SEND_REQUESTS = 1241
DESTINATION_UNREACHABLE = 1260
NOT_ON_PROVIDER_NETWORK = 1300
ALREADY_SENT = 1320
UNKNOWN = 1330
OUTSIDE_ALLOWED_WINDOW = 1340
PHONE_MATCHING_FEE = 1350
TTL_EXPIRED = 1360
EXPIRED_ACCESS_TOKEN = 1370

REASONS: dict[int, str] = {
    1000: "Throttled",
    1010: "Missing params",
    1020: "Invalid params",
    1021: "Invalid tag",
    1022: "Invalid template",
    1030: "Internal error",
    1040: "Invalid message",
    1050: "Number barred",
    1060: "Partner account barred",
    1070: "Partner quota exceeded",
    1080: "Account not enabled for REST",
    1090: "Message too long",
    1100: "Communication Failed",
    1110: "Invalid Signature",
    1120: "Illegal Sender Address - rejected",
    1130: "Invalid TTL",
    1140: "Facility not allowed",
    1150: "Invalid Message class",
    1160: "Non White-listed Destination",
    1170: "Invalid or Missing Msisdn Param",
    1180: "Absent Subscriber Temporary",
    1190: "Absent Subscriber Permanent",
    1200: "Portability Error",
    1210: "Anti-Spam Rejection",
    1220: "Handset Busy",
    1230: "Network Error",
    1240: "Illegal Number",
    1241: "Too many send requests",
    1250: "Unroutable",
    1260: "Destination unreachable",
    1270: "Subscriber Age Restriction",
    1280: "Number Blocked by Carrier",
    1290: "Pre-Paid - Insufficent funds",
    1300: "Not part of the provider network",
    1310: "Not suitable device",
    1320: "Message already sent",
    1330: "Unknown",
    1340: "Outside of the allowed window",
    1350: "Phone matching fee not paid",
    1360: "TTL was activated (no callbacks and no charge)",
    1370: "Expired access Token",
}


def error(code: int, reason: str | None = None) -> dict[str, object]:
    """An ``error`` object for a status: ``{"code": int, "reason": str}``."""
    return {"code": code, "reason": reason or REASONS.get(code, "Unknown")}
