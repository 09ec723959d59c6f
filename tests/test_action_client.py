"""Kept-alive calls to the action server (bot/action_client.py).

Against small local HTTP servers: the answers and errors are Rasa's own, the
calls of a conversation share one connection, a kept connection the server
closed is replaced without losing the call, and a call on a new connection is
never sent twice (an action must not run twice, e.g. store a visitor request).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.action_client import KeptAliveEndpoint

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def http_server(handler: Handler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
    try:
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        await runner.cleanup()


def endpoints(url: str) -> tuple[EndpointConfig, KeptAliveEndpoint]:
    stock = EndpointConfig(url=url, token="secret", headers={"X-Test": "1"})
    return stock, KeptAliveEndpoint.of(stock)


def test_answers_as_rasas_endpoint_over_one_connection() -> None:
    peers: list[int] = []

    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({
            "path": request.path, "token": request.query.get("token"),
            "header": request.headers.get("X-Test"), "body": await request.json(),
        })

    async def main() -> None:
        async with http_server(echo) as url:
            stock, kept = endpoints(url)
            body = {"next_action": "action_submit_visitor_request", "tracker": {"x": "ä"}}
            expected = await stock.request(json=body, method="post", timeout=10)
            assert expected == {"path": "/webhook", "token": "secret", "header": "1",
                                "body": body}
            for _ in range(3):
                assert await kept.request(json=body, method="post", timeout=10) == expected
            await kept.close()

    asyncio.run(main())
    assert len(peers) == 4
    assert len(set(peers[1:])) == 1, "the kept endpoint opened more than one connection"


def test_errors_are_rasas() -> None:
    async def failing(request: web.Request) -> web.Response:
        return web.json_response({"error": "action server error"}, status=500)

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="kein JSON")

    async def main() -> None:
        async with http_server(failing) as url:
            _, kept = endpoints(url)
            with pytest.raises(ClientResponseError) as error:
                await kept.request(json={}, method="post")
            assert error.value.status == 500
            await kept.close()
        async with http_server(plain) as url:
            _, kept = endpoints(url)
            assert await kept.request(json={}, method="post") is None
            await kept.close()

    asyncio.run(main())


class RawServer:
    """An HTTP/1.1 server that answers with keep-alive, or hangs up instead.

    `hang_up(connection_number, request_number)` decides, per request, whether
    the server closes the connection without answering (as a server does when
    it closes an idle connection just as a request arrives, or crashes)."""

    def __init__(self, hang_up: Callable[[int, int], bool]) -> None:
        self.hang_up = hang_up
        self.requests: list[tuple[int, int]] = []  # (connection, request on it)
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        number = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                await reader.readexactly(length)
                number += 1
                self.requests.append((connection, number))
                if self.hang_up(connection, number):
                    return
                body = json.dumps({"connection": connection}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Connection: keep-alive\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def run(self, calls: int) -> list[object]:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        kept = KeptAliveEndpoint(url=f"http://127.0.0.1:{port}/webhook")
        results: list[object] = []
        try:
            for _ in range(calls):
                try:
                    results.append(await kept.request(json={"n": 1}, method="post", timeout=10))
                except aiohttp.ClientError as error:
                    results.append(error)
        finally:
            await kept.close()
            server.close()
            await server.wait_closed()
        return results


def test_a_kept_connection_the_server_closed_is_replaced_without_losing_the_call() -> None:
    # The first connection is closed by the server when its second request arrives.
    server = RawServer(hang_up=lambda connection, number: connection == 1 and number == 2)
    results = asyncio.run(server.run(calls=3))
    assert results == [{"connection": 1}, {"connection": 2}, {"connection": 2}]
    assert server.requests == [(1, 1), (1, 2), (2, 1), (2, 2)]


def test_a_call_on_a_new_connection_is_never_sent_twice() -> None:
    # The server hangs up on every first request of a connection: it may have
    # run the action, so the call fails as with Rasa's endpoint and is not repeated.
    server = RawServer(hang_up=lambda connection, number: number == 1)
    results = asyncio.run(server.run(calls=2))
    assert all(isinstance(r, aiohttp.ServerDisconnectedError) for r in results), results
    assert server.requests == [(1, 1), (2, 1)]


def test_a_failed_retry_is_not_repeated_again() -> None:
    # Reused connection closed, and the new one too: one retry, then the error.
    server = RawServer(hang_up=lambda connection, number: connection > 1 or number == 2)
    results = asyncio.run(server.run(calls=2))
    assert results[0] == {"connection": 1}
    assert isinstance(results[1], aiohttp.ServerDisconnectedError)
    assert server.requests == [(1, 1), (1, 2), (2, 1)]


def test_the_server_installs_it_for_the_action_endpoint_only(tmp_path) -> None:  # noqa: ANN001
    from rasa.core.utils import AvailableEndpoints

    from bot import perf

    path = tmp_path / "endpoints.yml"
    path.write_text(
        "action_endpoint:\n  url: http://127.0.0.1:5055/webhook\n  token: abc\n"
        "nlg:\n  url: http://127.0.0.1:5056/nlg\n"
    )
    perf.uninstall()
    try:
        perf.install()
        read = AvailableEndpoints.read_endpoints(str(path))
        assert isinstance(read.action, KeptAliveEndpoint)
        assert (read.action.url, read.action.token) == ("http://127.0.0.1:5055/webhook", "abc")
        assert type(read.nlg) is EndpointConfig
    finally:
        perf.uninstall()
    assert type(AvailableEndpoints.read_endpoints(str(path)).action) is EndpointConfig
