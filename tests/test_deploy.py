"""The deployment samples under deploy/: what the security notes (docs/SECURITY.md) say about
them is what they do."""

from __future__ import annotations

import re
from pathlib import Path

NGINX = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"


def server_blocks(text: str) -> list[str]:
    """The top-level `server { ... }` blocks, by brace depth (comments dropped)."""
    text = re.sub(r"#[^\n]*", "", text)
    blocks, depth, start = [], 0, None
    for match in re.finditer(r"\bserver\s*\{|\{|\}", text):
        token = match.group(0)
        if token != "}":
            if depth == 0 and token.startswith("server"):
                start = match.start()
            depth += 1
        else:
            depth -= 1
            if depth == 0 and start is not None:
                blocks.append(text[start : match.end()])
                start = None
    return blocks


def location(block: str, prefix: str) -> str:
    found = re.search(r"location\s+(=\s*)?" + re.escape(prefix) + r"\s*\{([^{}]*)\}", block)
    assert found, f"no location {prefix}"
    return found.group(2)


def test_plain_http_refuses_api_clients_and_redirects_only_browsers():
    [plain] = [b for b in server_blocks(NGINX.read_text()) if re.search(r"listen\s+80;", b)]
    for prefix in ("/api/", "/open311/"):
        assert re.search(r"return\s+403;", location(plain, prefix))
    assert re.search(r"return\s+301\s+https://", location(plain, "/"))
    # No redirect outside a location, which would also catch the API.
    outside = re.sub(r"location[^{]*\{[^{}]*\}", "", plain[plain.index("{") + 1 :])
    assert "return" not in outside


def test_static_files_from_nginx_are_nosniff_with_a_charset():
    [tls] = [b for b in server_blocks(NGINX.read_text()) if re.search(r"listen\s+443", b)]
    static = location(tls, "/static/")
    assert "X-Content-Type-Options nosniff" in static
    assert re.search(r"charset\s+utf-8;", static)
    assert "text/css" in static and "application/javascript" in static


def test_systemd_waits_longer_than_the_server_drains_and_allows_many_connections():
    import server

    unit = (NGINX.parent / "forum.service").read_text()
    stop = re.search(r"^TimeoutStopSec=(\d+)s$", unit, re.M)
    # The supervisor kills its processes 5 s after their shutdown timeout.
    assert stop and int(stop.group(1)) > server.SHUTDOWN_GRACE_SECONDS + 5
    files = re.search(r"^LimitNOFILE=(\d+)$", unit, re.M)
    assert files and int(files.group(1)) >= 8192
