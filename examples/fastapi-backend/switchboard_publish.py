"""A small client for Switchboard's HTTP publish API (`POST /api/events`).

What it does, and why:

* every publish carries an idempotency key, sent as the `Idempotency-Key` header: the gateway
  publishes at most once per key and answers a repeat with the first event's id, which is what
  makes retrying safe (a request that timed out may still have landed);
* it retries only what can succeed later: 503 `unavailable` (Redis did not take the event in time,
  or something in front of the gateway is not ready) and connection errors/timeouts, with
  exponential backoff and full jitter so that many backends do not retry in lockstep, waiting at
  least what Retry-After asks for;
* it never retries a refusal (any 4xx, or another 5xx): the same request would be refused again.
  It raises `PublishError` with the gateway's typed error (`{"error": {"code", "message",
  "issues"?}}`) so the caller can say what was wrong;
* all attempts fit in one deadline, so a caller's own request never hangs on an outage.

Only httpx (Debian: python3-httpx) beyond the standard library.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

import httpx

# Statuses worth asking again: the gateway says "not now", not "no".
RETRYABLE_STATUSES = frozenset({503})


@dataclass(frozen=True)
class PublishConfig:
    """Where the gateway is and how hard to try; `from_env` reads the SWITCHBOARD_* variables."""

    url: str
    token: str
    timeout_s: float = 5.0  # one attempt (connect + answer)
    deadline_s: float = 15.0  # all attempts and waits together
    max_attempts: int = 5
    base_delay_s: float = 0.2  # first backoff ceiling, doubled per attempt
    max_delay_s: float = 5.0  # no single wait is longer (Retry-After included)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "PublishConfig":
        token = env.get("SWITCHBOARD_PUBLISH_TOKEN", "")
        if not token:
            # No default on purpose: a backend must not silently publish with the dev token.
            raise RuntimeError(
                "SWITCHBOARD_PUBLISH_TOKEN is not set (the gateway's PUBLISH_TOKEN; "
                "locally: switchboard-dev-publish-token)"
            )
        return cls(
            url=env.get("SWITCHBOARD_URL", "http://127.0.0.1:3000").rstrip("/"),
            token=token,
            timeout_s=float(env.get("SWITCHBOARD_TIMEOUT_S", cls.timeout_s)),
            deadline_s=float(env.get("SWITCHBOARD_DEADLINE_S", cls.deadline_s)),
            max_attempts=int(env.get("SWITCHBOARD_MAX_ATTEMPTS", cls.max_attempts)),
            base_delay_s=float(env.get("SWITCHBOARD_RETRY_BASE_S", cls.base_delay_s)),
            max_delay_s=float(env.get("SWITCHBOARD_RETRY_MAX_S", cls.max_delay_s)),
        )


@dataclass(frozen=True)
class Published:
    """A publish the gateway accepted: `id` is the `meta.id` clients receive."""

    id: str
    replayed: bool  # the key was used before: no new event, `id` is the first one's
    attempts: int


class PublishError(Exception):
    """The event was not accepted: the gateway's error code (or `unavailable` after the retries)."""

    def __init__(
        self,
        code: str,
        message: str,
        status: Optional[int],  # the gateway's HTTP status; None when it never answered
        attempts: int,
        issues: Optional[List[Dict[str, Any]]] = None,
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.status = status
        self.attempts = attempts
        self.issues = issues or []

    def __str__(self) -> str:
        return f"{self.code}: {self.message} (after {self.attempts} attempt(s))"

    @property
    def retryable(self) -> bool:
        """True when the same request may succeed later (with the same idempotency key)."""
        return self.status is None or self.status in RETRYABLE_STATUSES

    def to_json(self) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "gatewayStatus": self.status,
            "attempts": self.attempts,
        }
        if self.issues:
            body["issues"] = self.issues
        return body


class SwitchboardPublisher:
    """One pooled HTTP client for the process; `await publisher.aclose()` on shutdown."""

    def __init__(self, config: PublishConfig, client: Optional[httpx.AsyncClient] = None) -> None:
        self.config = config
        self._client = client or httpx.AsyncClient(timeout=config.timeout_s)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def publish(
        self,
        event: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str,
        target: Optional[Mapping[str, str]] = None,
    ) -> Published:
        """Publishes one catalog event, retrying 503s and transport errors under one key."""
        body: Dict[str, Any] = {"event": event, "data": dict(data)}
        if target is not None:
            body["target"] = dict(target)
        headers = {
            "authorization": f"Bearer {self.config.token}",
            # The same key on every attempt: that is what makes a retry a no-op once one landed.
            "idempotency-key": idempotency_key,
        }
        deadline = time.monotonic() + self.config.deadline_s
        attempt = 0
        while True:
            attempt += 1
            wait_hint: Optional[float] = None
            # No attempt outlives the deadline either.
            timeout = max(0.1, min(self.config.timeout_s, deadline - time.monotonic()))
            try:
                res = await self._client.post(
                    f"{self.config.url}/api/events", json=body, headers=headers, timeout=timeout
                )
            except httpx.TransportError as err:
                # Refused, reset, timed out: it may or may not have landed; the key covers both.
                failure = PublishError("unavailable", f"{type(err).__name__}: {err}", None, attempt)
            else:
                if res.status_code in (200, 202):
                    accepted = res.json()
                    return Published(
                        id=str(accepted["id"]),
                        replayed=res.headers.get("idempotent-replayed") == "true",
                        attempts=attempt,
                    )
                failure = _error_of(res, attempt)
                if res.status_code not in RETRYABLE_STATUSES:
                    raise failure
                wait_hint = _retry_after_s(res)

            if attempt >= self.config.max_attempts:
                raise failure
            delay = self._backoff_s(attempt, wait_hint)
            if time.monotonic() + delay > deadline:
                # Waiting would overrun the deadline: give up now rather than late.
                raise failure
            await asyncio.sleep(delay)

    def _backoff_s(self, attempt: int, retry_after_s: Optional[float]) -> float:
        # Full jitter (a random wait up to the exponential ceiling) spreads retries of many callers.
        ceiling = min(self.config.max_delay_s, self.config.base_delay_s * 2 ** (attempt - 1))
        delay = random.uniform(0, ceiling)
        if retry_after_s is not None:
            # The gateway knows better than our guess; still bounded so one answer cannot stall us.
            delay = max(delay, min(retry_after_s, self.config.max_delay_s))
        return delay


def _error_of(res: httpx.Response, attempt: int) -> PublishError:
    """The gateway's `{"error": {code, message, issues?}}`, or a stand-in for a non-JSON answer."""
    try:
        error = res.json()["error"]
        return PublishError(
            code=str(error["code"]),
            message=str(error.get("message", "")),
            status=res.status_code,
            attempts=attempt,
            issues=list(error.get("issues") or []),
        )
    except (ValueError, KeyError, TypeError):
        # Not the gateway's shape (a proxy's HTML page): keep the status, say what came back.
        code = "unavailable" if res.status_code in RETRYABLE_STATUSES else "unexpected_response"
        message = f"HTTP {res.status_code}: {res.text[:200]}"
        return PublishError(code, message, res.status_code, attempt)


def _retry_after_s(res: httpx.Response) -> Optional[float]:
    """Retry-After as seconds (delta-seconds or an HTTP date), else the body's `retryAfterMs`."""
    header = res.headers.get("retry-after")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(header)
                return max(0.0, when.timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    try:
        ms = res.json()["error"]["retryAfterMs"]
        return max(0.0, float(ms) / 1000)
    except (ValueError, KeyError, TypeError):
        return None
