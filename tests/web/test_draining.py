"""Draining, the gate between the HTTP server and the application that lets a stopping server
finish its requests in flight and refuse new ones."""

from __future__ import annotations

import asyncio

import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web

from forum.web.draining import Draining


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:] if line)
    body = await reader.readexactly(int(headers.get("Content-Length", 0)))
    return int(head[0].split()[1]), headers, body


def request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode()


@pytest.mark.gen_test(timeout=10)
async def test_drain_finishes_requests_in_flight_and_refuses_new_ones():
    release = asyncio.Event()

    class Slow(tornado.web.RequestHandler):
        async def get(self):
            await release.wait()
            self.write("done")

    class Fast(tornado.web.RequestHandler):
        def get(self):
            self.write("fast")

    gate = Draining(tornado.web.Application([("/slow", Slow), ("/fast", Fast)]))
    server = tornado.httpserver.HTTPServer(gate)
    [sock] = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets([sock])
    port = sock.getsockname()[1]
    try:
        kept_reader, kept = await asyncio.open_connection("127.0.0.1", port)
        kept.write(request("/fast"))
        assert (await read_answer(kept_reader))[0] == 200
        assert gate.in_flight == 0
        slow_reader, slow = await asyncio.open_connection("127.0.0.1", port)
        slow.write(request("/slow"))
        while gate.in_flight == 0:
            await asyncio.sleep(0.01)

        server.stop()
        draining = asyncio.ensure_future(gate.drain(5))
        await asyncio.sleep(0.05)
        assert not draining.done()
        # A request on a kept-alive connection while stopping: 503, and the connection closes.
        kept.write(request("/fast"))
        status, headers, _ = await read_answer(kept_reader)
        assert status == 503 and headers["Connection"] == "close"
        assert await kept_reader.read() == b""

        release.set()
        assert await draining == 0
        status, headers, body = await read_answer(slow_reader)
        assert (status, body, headers["Connection"]) == (200, b"done", "close")
        assert await slow_reader.read() == b""
    finally:
        server.stop()
        await server.close_all_connections()


@pytest.mark.gen_test(timeout=10)
async def test_drain_gives_up_after_its_timeout():
    class Stuck(tornado.web.RequestHandler):
        async def get(self):
            await asyncio.sleep(30)

    gate = Draining(tornado.web.Application([("/stuck", Stuck)]))
    server = tornado.httpserver.HTTPServer(gate)
    [sock] = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets([sock])
    _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
    writer.write(request("/stuck"))
    while gate.in_flight == 0:
        await asyncio.sleep(0.01)
    server.stop()
    started = asyncio.get_running_loop().time()
    assert await gate.drain(0.2) == 1
    assert asyncio.get_running_loop().time() - started < 2
    await server.close_all_connections()
