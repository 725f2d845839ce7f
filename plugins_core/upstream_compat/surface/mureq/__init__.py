"""``pioreactor.mureq``: the small HTTP client upstream ships (same names), on urllib.

    r = mureq.post(url, json={"text": "hello"})
    r.raise_for_status()
"""

from __future__ import annotations

import json as json_module
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_TIMEOUT = 15.0


class HTTPException(Exception):
    """The request could not be made (connection refused, timeout, bad URL)."""


class HTTPErrorStatus(HTTPException):
    """The server answered with a 4xx or 5xx status."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP response returned error code {status_code}")
        self.status_code = status_code


class Response:
    def __init__(self, url: str, status_code: int, headers: dict[str, str], body: bytes) -> None:
        self.url = url
        self.status_code = status_code
        self.headers = headers
        self.body = body

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 400

    @property
    def content(self) -> bytes:
        return self.body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json_module.loads(self.body)

    def raise_for_status(self) -> None:
        if not self.ok:
            raise HTTPErrorStatus(self.status_code)

    def __repr__(self) -> str:
        return f"Response(status_code={self.status_code})"


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    json: Any = None,
    form: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    **_: Any,
) -> Response:
    headers = dict(headers or {})
    if json is not None:
        body = json_module.dumps(json).encode()
        headers.setdefault("Content-Type", "application/json")
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    if params:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    req = urllib.request.Request(url, data=body, headers=headers, method=method.upper())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:  # noqa: S310 (the caller's URL)
            return Response(url, answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as err:
        return Response(url, err.code, dict(err.headers or {}), err.read() or b"")
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise HTTPException(f"{method.upper()} {url} failed: {err}") from err


def get(url: str, **kwargs: Any) -> Response:
    return request("GET", url, **kwargs)


def post(url: str, body: bytes | None = None, **kwargs: Any) -> Response:
    return request("POST", url, body=body, **kwargs)


def put(url: str, body: bytes | None = None, **kwargs: Any) -> Response:
    return request("PUT", url, body=body, **kwargs)


def patch(url: str, body: bytes | None = None, **kwargs: Any) -> Response:
    return request("PATCH", url, body=body, **kwargs)


def delete(url: str, **kwargs: Any) -> Response:
    return request("DELETE", url, **kwargs)


def head(url: str, **kwargs: Any) -> Response:
    return request("HEAD", url, **kwargs)
