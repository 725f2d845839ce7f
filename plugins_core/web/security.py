"""Who may call the web API, and from where.

* ``[web] auth``: ``none`` (the default, as upstream on a lab network), ``basic`` (users and
  passwords set with ``pio web add-user``, stored as scrypt hashes) or ``token`` (bearer tokens
  made with ``pio web new-token``, stored as SHA-256 hashes). Applies to ``/api``,
  ``/unit_api`` (``/unit_api/health`` aside) and ``/exports``; the UI's static files stay public.
* Cross-site writes are refused (upstream 26.11): a POST/PUT/PATCH/DELETE whose ``Origin`` is not
  this server (or one of ``[web] allowed_origins``), or that the browser marks
  ``Sec-Fetch-Site: cross-site``, gets 403. Scripts and ``pios`` send no ``Origin``.
* ``X-Pioreactor-Target``: a ``/unit_api`` write addressed to another unit gets 409 (a proxy or
  a stale address sent it to the wrong machine).
* ``X-Pioreactor-Leader``: a ``/unit_api`` write sent by a leader (``pios``, the leader's fan-out)
  that is not this unit's ``[cluster] leader_hostname`` gets 403, so a second leader on the
  network cannot take over a worker (upstream #344).
* Job starts are rate-limited (a token bucket per server).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pioreactor.plugins_core.web.api import ApiError

AUTH_MODES = ("none", "basic", "token")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STORE = "web_auth"
# answered without credentials: whether the server is up says nothing about the lab
PUBLIC_PATHS = frozenset({"/unit_api/health"})


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class RateLimit:
    """A token bucket: ``burst`` starts at once, refilled at ``per_second``."""

    burst: float
    per_second: float
    _tokens: float = field(init=False)
    _last: float = field(init=False, default_factory=time.monotonic)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._tokens = self.burst

    def allow(self) -> float:
        """0 if allowed now, else the seconds to wait."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_second)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.per_second if self.per_second > 0 else 60.0


class Security:
    def __init__(
        self,
        *,
        unit: str,
        leader: str | None = None,
        auth: str = "none",
        users: dict[str, str] | None = None,
        token_digests: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
        job_start_burst: float = 10,
        job_starts_per_second: float = 2,
    ) -> None:
        if auth not in AUTH_MODES:
            raise ValueError(f"[web] auth = {auth!r}: use one of {', '.join(AUTH_MODES)}")
        self.unit = unit
        self.leader = leader
        self.auth = auth
        self.users = dict(users or {})
        self.token_digests = set(token_digests)
        self.allowed_origins = {o.strip().rstrip("/").lower() for o in allowed_origins if o.strip()}
        self.job_starts = RateLimit(job_start_burst, job_starts_per_second)
        self._verified: set[str] = set()  # digests of user:password pairs already checked (scrypt is slow)

    # -- authentication ------------------------------------------------------------------------
    def _authenticated(self, request: Any) -> bool:
        if self.auth == "basic":
            credentials = request.authorization
            if credentials is None or credentials.type != "basic":
                return False
            user, password = credentials.username or "", credentials.password or ""
            stored = self.users.get(user)
            if stored is None:
                return False
            key = hashlib.sha256(f"{user}\0{password}\0{stored}".encode()).hexdigest()
            if key in self._verified:
                return True
            from werkzeug.security import check_password_hash

            if check_password_hash(stored, password):
                self._verified.add(key)
                return True
            return False
        if self.auth == "token":
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return False
            digest = token_digest(token.strip())
            return any(hmac.compare_digest(digest, known) for known in self.token_digests)
        return True

    # -- the checks, before every request ------------------------------------------------------
    def check(self, request: Any) -> Any:
        path = request.path
        if request.method == "OPTIONS":  # a browser's CORS preflight: answered, never acted on
            return None
        protected = path.startswith(("/api", "/unit_api", "/exports")) and path not in PUBLIC_PATHS
        if protected and not self._authenticated(request):
            from flask import jsonify

            response = jsonify(
                {
                    "error": "authentication required",
                    "cause": f"this server uses [web] auth = {self.auth}",
                    "remediation": "Send a user and password (HTTP basic auth)"
                    if self.auth == "basic"
                    else "Send the header 'Authorization: Bearer <token>' (pio web new-token makes one).",
                }
            )
            response.status_code = 401
            if self.auth == "basic":
                response.headers["WWW-Authenticate"] = 'Basic realm="pioreactor"'
            return response
        if request.method in UNSAFE_METHODS:
            self._check_origin(request)
            target = request.headers.get("X-Pioreactor-Target")
            # on /unit_api only: a leader's /api/workers/<unit>/... write names its unit in the path
            if path.startswith("/unit_api") and target is not None and target.strip().lower().removesuffix(".local") != self.unit.lower():
                raise ApiError(
                    409,
                    f"this request is for {target.strip()!r}, but this unit is {self.unit!r}",
                    remediation="Check the address you sent it to (a proxy or a stale IP address).",
                )
            sender = request.headers.get("X-Pioreactor-Leader")
            if path.startswith("/unit_api") and sender is not None and self.leader is not None and sender.strip() != self.leader:
                raise ApiError(
                    403,
                    f"{sender.strip()!r} is not this unit's leader ({self.leader!r}); the command was refused",
                    remediation="Send it from the leader, or change [cluster] leader_hostname on this unit.",
                )
        return None

    def _check_origin(self, request: Any) -> None:
        origin = request.headers.get("Origin")
        if origin is None:
            if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
                raise ApiError(403, "cross-site write refused", cause="the browser marked it Sec-Fetch-Site: cross-site")
            return
        normalized = origin.strip().rstrip("/").lower()
        if normalized in self.allowed_origins:
            return
        if normalized != "null" and urlsplit(normalized).netloc == request.host.lower():
            return
        raise ApiError(
            403,
            f"cross-site write refused: origin {origin!r} is not this server",
            remediation="Open the UI from this unit's own address, or add the origin to [web] allowed_origins.",
        )

    def cors_headers(self, request: Any) -> dict[str, str]:
        """CORS headers for a browser page served from one of ``[web] allowed_origins`` (a UI in
        development on another port, say); none for any other origin."""
        origin = request.headers.get("Origin")
        if origin is None or origin.strip().rstrip("/").lower() not in self.allowed_origins:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
            "Access-Control-Allow-Headers": "Content-Type, Authorization, X-Pioreactor-Target",
            "Vary": "Origin",
        }

    def allow_job_start(self) -> None:
        wait = self.job_starts.allow()
        if wait > 0:
            raise ApiError(
                429,
                "too many job starts: slow down",
                cause=f"at most {self.job_starts.burst:g} starts at once, then {self.job_starts.per_second:g} per second",
                remediation=f"Retry in {wait:.1f} s.",
            )
