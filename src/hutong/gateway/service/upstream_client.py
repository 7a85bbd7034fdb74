"""The HTTP side of provider-API calls: one client, a circuit breaker per endpoint.

``UpstreamCaller.fetch`` sends ``GET {base}/records`` with the endpoint's timeout (capped
by ``HUTONG_UPSTREAM_TIMEOUT_MAX_SECONDS``) over the whole exchange, never follows a
redirect, reads at most ``HUTONG_UPSTREAM_MAX_BODY_BYTES`` as a stream, and checks the
answer's status, media type and shape; each failure is a domain error that names it.
``upstream.py`` turns the records into what the consumer may see.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pybreaker

from hutong import __version__
from hutong.core.errors import HutongError
from hutong.upstream import secrets
from hutong.upstream.service import UpstreamTarget

# httpx logs every request's full URL at INFO: the query string carries key values
# (resident IDs). Personal information never goes to the logs.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

RECORDS_PATH = "/records"


class UpstreamError(HutongError):
    """502: the provider's API failed or answered something the gateway cannot deliver."""

    status = 502
    type_slug = "bad-upstream-answer"
    title = "Bad gateway"

    def __init__(self, detail: str, *, reason: str, upstream_status: int | None = None):
        extra: dict[str, Any] = {"reason": reason}
        if upstream_status is not None:
            extra["upstream_status"] = upstream_status
        super().__init__(detail, extra=extra)


class UpstreamRefused(UpstreamError):
    """502 for a 4xx answer: a refusal of this request, not a sign the API is down."""


class UpstreamTimeout(HutongError):
    """504: the provider's API did not answer within the timeout."""

    status = 504
    type_slug = "upstream-timeout"
    title = "Gateway timeout"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, extra={"reason": "upstream_timeout"})


class UpstreamUnavailable(HutongError):
    """503: the gateway does not call the provider's API now (circuit open, or disabled)."""

    status = 503
    type_slug = "upstream-unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, *, reason: str, retry_after: int | None = None) -> None:
        extra: dict[str, Any] = {"reason": reason}
        if retry_after is not None:
            extra["retry_after"] = retry_after
        super().__init__(detail, extra=extra)


def _not_counted(exc: BaseException) -> bool:
    """Errors that do not count toward opening the circuit: refusals and our own bugs."""
    return not isinstance(exc, UpstreamError | UpstreamTimeout) or isinstance(exc, UpstreamRefused)


class _OpenedAt(pybreaker.CircuitBreakerListener):
    """Remembers when the circuit last opened, for ``Retry-After``."""

    def __init__(self) -> None:
        self.at = 0.0

    def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
        if new_state is not None and new_state.name == pybreaker.STATE_OPEN:
            self.at = time.monotonic()


@dataclass
class _Breaker:
    version: str
    breaker: pybreaker.CircuitBreaker
    opened: _OpenedAt

    def retry_after(self) -> int:
        left = self.breaker.reset_timeout - (time.monotonic() - self.opened.at)
        return max(1, math.ceil(left))


class Breakers:
    """One circuit breaker per endpoint, in this process; a changed endpoint starts closed."""

    def __init__(self, *, failures: int, reset_seconds: float) -> None:
        self.failures = max(1, failures)
        self.reset_seconds = reset_seconds
        self._by_endpoint: dict[str, _Breaker] = {}
        self._lock = threading.Lock()

    def get(self, target: UpstreamTarget) -> _Breaker:
        with self._lock:
            current = self._by_endpoint.get(target.endpoint_id)
            if current is None or current.version != target.version:
                opened = _OpenedAt()
                current = _Breaker(
                    version=target.version,
                    breaker=pybreaker.CircuitBreaker(
                        fail_max=self.failures,
                        reset_timeout=self.reset_seconds,
                        exclude=[_not_counted],
                        listeners=[opened],
                        name=target.endpoint_id,
                        # the call that trips the circuit reports its own failure (504, 502)
                        throw_new_error_on_trip=False,
                    ),
                    opened=opened,
                )
                self._by_endpoint[target.endpoint_id] = current
            return current


@dataclass(frozen=True)
class Fetched:
    """A checked upstream answer: its records (raw) and the total it declared."""

    records: list[dict[str, Any]]
    total: int | None


class UpstreamCaller:
    """The gateway's HTTP client for provider APIs and its circuit breakers (one per app)."""

    def __init__(
        self,
        *,
        keys_dir: Path,
        timeout_default: float,
        timeout_max: float,
        max_body_bytes: int,
        breaker_failures: int,
        breaker_reset_seconds: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.keys_dir = keys_dir
        self.timeout_default = timeout_default
        self.timeout_max = timeout_max
        self.max_body_bytes = max_body_bytes
        self.breakers = Breakers(failures=breaker_failures, reset_seconds=breaker_reset_seconds)
        self.client = httpx.Client(
            follow_redirects=False,
            trust_env=False,  # no proxies or .netrc credentials from the environment
            headers={"User-Agent": f"hutong/{__version__}"},
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def timeout_for(self, target: UpstreamTarget) -> float:
        return min(target.timeout_seconds or self.timeout_default, self.timeout_max)

    def fetch(
        self, target: UpstreamTarget, params: Sequence[tuple[str, str]], headers: Mapping[str, str]
    ) -> Fetched:
        """GET {base}/records with the params, through the endpoint's circuit breaker.

        Raises UpstreamUnavailable (503), UpstreamTimeout (504), UpstreamError (502).
        """
        if not target.enabled:
            raise UpstreamUnavailable(
                "the provider has disabled the API that serves this resource",
                reason="upstream_disabled",
            )
        guard = self.breakers.get(target)
        try:
            with guard.breaker.calling():
                return self._get(target, params, headers)
        except pybreaker.CircuitBreakerError:
            raise UpstreamUnavailable(
                "the provider's API failed repeatedly; the gateway is not calling it for now",
                reason="circuit_open",
                retry_after=guard.retry_after(),
            ) from None

    def _get(
        self, target: UpstreamTarget, params: Sequence[tuple[str, str]], extra: Mapping[str, str]
    ) -> Fetched:
        timeout = self.timeout_for(target)
        deadline = time.monotonic() + timeout
        headers = {"Accept": "application/json", **extra}
        if target.auth_header and target.auth_secret:
            headers[target.auth_header] = secrets.open_sealed(
                target.auth_secret, keys_dir=self.keys_dir, endpoint_id=target.endpoint_id
            )
        try:
            with self.client.stream(
                "GET",
                target.base_url + RECORDS_PATH,
                params=list(params),
                headers=headers,
                timeout=httpx.Timeout(timeout),
            ) as response:
                _check_status(response.status_code)
                _check_content_type(response.headers.get("content-type", ""))
                body = self._read(response, deadline)
        except httpx.TimeoutException:
            raise UpstreamTimeout(
                f"the provider's API did not answer within {timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"the provider's API could not be reached ({type(exc).__name__})",
                reason="upstream_unreachable",
            ) from None
        return _parse(body)

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        cap = self.max_body_bytes
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            raise _too_large(cap)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decoded: a compressed bomb stops at the cap
            size += len(chunk)
            if size > cap:
                raise _too_large(cap)
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the answer took longer than the timeout")
            chunks.append(chunk)
        return b"".join(chunks)


def _too_large(cap: int) -> UpstreamError:
    return UpstreamError(
        f"the provider's API answered more than {cap} bytes", reason="upstream_too_large"
    )


def _check_status(status: int) -> None:
    if status == 200:
        return
    if 300 <= status < 400:
        raise UpstreamError(
            f"the provider's API answered a redirect (HTTP {status}); the gateway does not "
            "follow redirects",
            reason="upstream_redirect",
            upstream_status=status,
        )
    if 400 <= status < 500:
        raise UpstreamRefused(
            f"the provider's API refused the request (HTTP {status})",
            reason="upstream_refused",
            upstream_status=status,
        )
    raise UpstreamError(
        f"the provider's API failed (HTTP {status})",
        reason="upstream_status",
        upstream_status=status,
    )


def _check_content_type(value: str) -> None:
    media, _, rest = value.partition(";")
    media = media.strip().lower()
    charset = ""
    for param in rest.split(";"):
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset":
            charset = val.strip().strip('"').lower()
    if (media == "application/json" or media.endswith("+json")) and charset in (
        "",
        "utf-8",
        "utf8",
    ):
        return
    raise UpstreamError(
        f"the provider's API answered '{media[:60] or 'no content type'}'"
        f"{f' in {charset[:20]}' if charset else ''}, not JSON in UTF-8",
        reason="upstream_content_type",
    )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(body: bytes) -> Fetched:
    try:
        doc = json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise UpstreamError(
            "the provider's API answered something that is not valid JSON", reason="upstream_json"
        ) from None
    records = doc.get("records") if isinstance(doc, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise UpstreamError(
            'the provider\'s API answer is not {"records": [objects]}', reason="upstream_shape"
        )
    total = doc.get("total")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise UpstreamError(
            "the provider's API answered a 'total' that is not a count", reason="upstream_shape"
        )
    return Fetched(records=records, total=total)
