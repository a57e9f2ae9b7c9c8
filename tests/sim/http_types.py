"""Types shared between the HTTP server (sim-A) and the entity service (sim-B).

EntityService.handle() returns a Response; the server writes it as is:
status line, the headers in order (the server adds Content-Length,
Date and connection headers itself), then the body bytes.
"""
from dataclasses import dataclass, field


@dataclass
class Response:
    status: int
    headers: list = field(default_factory=list)   # list[tuple[str, str]]
    body: bytes = b""                               # already-encoded JSON, or b""

    def header(self, name):
        """The first header value named `name` (case-insensitive), or None."""
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None


JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def json_response(status, body_bytes, extra_headers=None):
    """A Response with a JSON body (already encoded) and the JSON content type."""
    headers = [("Content-Type", JSON_CONTENT_TYPE)]
    if extra_headers:
        headers.extend(extra_headers)
    return Response(status, headers, body_bytes)


def empty_response(status, extra_headers=None):
    """A Response with no body (204, 202 with Location, ...)."""
    return Response(status, list(extra_headers or []), b"")
