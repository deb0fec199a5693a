"""An order service's own backend (FastAPI) that tells the order's watchers about a status change
through Switchboard: `POST /orders/{order_id}/status {"status": ..., "note"?: ...}`.

Run: `uvicorn app:app --port 8000` in this directory, with SWITCHBOARD_URL and
SWITCHBOARD_PUBLISH_TOKEN set (see README.md).
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from fastapi import Body, FastAPI, Path
from fastapi.responses import JSONResponse

from switchboard_publish import PublishConfig, PublishError, SwitchboardPublisher

# Keys are global to a Switchboard deployment: a per-service prefix keeps ours apart from others'.
KEY_PREFIX = os.environ.get("SWITCHBOARD_KEY_PREFIX", "orders-api")

app = FastAPI(title="orders backend (Switchboard example)")

# Stands in for the service's database: order id -> current status.
ORDERS: Dict[str, str] = {}

publisher: Optional[SwitchboardPublisher] = None


# on_event rather than lifespan=: Debian's FastAPI 0.92 predates lifespan (newer ones accept both).
@app.on_event("startup")
async def open_publisher() -> None:
    global publisher
    # Fails the startup with one clear line when the token is missing, not the first request.
    publisher = SwitchboardPublisher(PublishConfig.from_env())


@app.on_event("shutdown")
async def close_publisher() -> None:
    if publisher is not None:
        await publisher.aclose()


def idempotency_key(order_id: str, status: str) -> str:
    """One key per business change. An order enters each status once, so (order, status) names the
    change: a retry of the same change (ours or our caller's) is the same key, and the gateway
    delivers it once. If your orders can revisit a status, put your row's version in the key."""
    return f"{KEY_PREFIX}:order_status:{order_id}:{status}"


@app.post("/orders/{order_id}/status")
async def change_status(
    # The gateway's id rule (letters, digits, _ . : @ -), so the key below is always a valid one.
    order_id: str = Path(..., regex=r"^[A-Za-z0-9_.:@-]{1,128}$"),
    # Shape only, since the key is built from it: which statuses exist is the event catalog's call
    # (src/catalog/events.ts), so an unknown one comes back as the gateway's invalid_payload.
    status: str = Body(..., regex=r"^[a-z_]{1,32}$"),
    note: Optional[str] = Body(None),
) -> Any:
    # 1. Our own write comes first and is the truth; setting a status is idempotent by itself.
    ORDERS[order_id] = status

    # 2. Then the notification, under the change's key.
    data: Dict[str, Any] = {"orderId": order_id, "status": status}
    if note is not None:
        data["note"] = note
    key = idempotency_key(order_id, status)
    if publisher is None:
        raise RuntimeError("startup did not open the publisher")
    try:
        published = await publisher.publish("order_status_changed", data, idempotency_key=key)
    except PublishError as err:
        # Still unavailable after the retries: 503, and the caller may repeat the request (same key,
        # so at most one delivery). Refused by the gateway: 502 with its error code, since the
        # fault is in what we sent, not in the caller's request as such.
        return JSONResponse(
            status_code=503 if err.retryable else 502,
            content={"error": err.to_json(), "orderId": order_id, "saved": True},
            headers={"Retry-After": "1"} if err.retryable else None,
        )
    return {
        "orderId": order_id,
        "status": status,
        "event": {
            "id": published.id,
            "replayed": published.replayed,
            "attempts": published.attempts,
            "idempotencyKey": key,
        },
    }


@app.get("/healthz")
async def healthz() -> Dict[str, bool]:
    return {"ok": True}
