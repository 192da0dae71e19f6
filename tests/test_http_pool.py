"""The metrics sources' pooled HTTP (`bot.http_pool`): kept-alive connections, bounded in number, answers
as `httpx.Response`, failures as httpx's exceptions, proxies from the environment, sessions closed with
their event loop. Against a small HTTP/1.1 server on 127.0.0.1 that counts its connections."""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from bot import http_pool

TLS = ssl.create_default_context()

Answer = Callable[[str], bytes]  # request line -> the whole HTTP response


def ok(body: bytes, *headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode() + body


@dataclass
class Server:
    answer: Answer
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    requests: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0].decode()
                self.requests.append(head.decode())
                await asyncio.sleep(0.01)
                writer.write(self.answer(line))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open_now -= 1
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    found = Server(lambda line: ok(b'{"ok": true}', "Content-Type: application/json"))
    listening = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = listening.sockets[0].getsockname()[1]
    yield found
    await http_pool.close_all()
    listening.close()


async def get(server: Server, path: str = "/api/v1/query", limit: int = 4, **kw: object) -> httpx.Response:
    return await http_pool.request(
        "prometheus|test",
        limit,
        "GET",
        server.url + path,
        read_timeout=2,
        verify=TLS,
        **kw,  # type: ignore[arg-type]
    )


async def test_many_reads_share_a_few_kept_alive_connections(server: Server) -> None:
    answers = await asyncio.gather(*(get(server, params={"query": f"up{{i='{i}'}}"}) for i in range(40)))
    assert [a.status_code for a in answers] == [200] * 40
    assert answers[0].json() == {"ok": True}
    assert server.most_open <= 4  # the limit: the rest waited for a connection
    assert server.connections <= 4  # and were served on the ones already open
    await get(server)
    assert server.connections <= 4


async def test_the_query_is_sent_encoded_as_a_form_value(server: Server) -> None:
    await get(server, params={"query": 'sum(rate(x{job="a b",le=~"0.5|1"}[5m])) & more', "time": "1.000"})
    line = server.requests[-1].split("\r\n", 1)[0]
    sent = httpx.URL("http://x" + line.split(" ")[1])
    assert sent.params["query"] == 'sum(rate(x{job="a b",le=~"0.5|1"}[5m])) & more'
    assert sent.params["time"] == "1.000"


async def test_a_compressed_answer_arrives_decoded_and_says_so(server: Server) -> None:
    body = gzip.compress(json.dumps({"status": "success"}).encode())
    server.answer = lambda line: ok(body, "Content-Encoding: gzip", "Content-Type: application/json")
    answer = await get(server)
    assert answer.json() == {"status": "success"}
    assert "content-encoding" not in answer.headers
    assert answer.headers["content-type"] == "application/json"


async def test_headers_and_a_json_body_reach_the_server(server: Server) -> None:
    await http_pool.request(
        "newrelic|test",
        2,
        "POST",
        server.url + "/graphql",
        read_timeout=2,
        verify=TLS,
        json={"query": "{ actor { user { name } } }"},
        headers={"API-Key": "NRAK-test"},
    )
    head = server.requests[-1].lower()
    assert head.startswith("post /graphql http/1.1")
    assert "api-key: nrak-test" in head and "content-type: application/json" in head
    assert "user-agent: scalebot" in head


async def test_a_refused_connection_is_httpx_connect_error_with_its_cause() -> None:
    with pytest.raises(httpx.ConnectError) as caught:
        await http_pool.request("x", 1, "GET", "http://127.0.0.1:9/", read_timeout=1, verify=TLS)
    cause = caught.value.__cause__
    assert cause is not None and isinstance(cause.__cause__, ConnectionRefusedError)
    await http_pool.close_all()


async def test_a_stalled_answer_is_a_read_timeout(server: Server) -> None:
    server.answer = lambda line: b""  # never answers
    with pytest.raises(httpx.ReadTimeout):
        await http_pool.request("x", 1, "GET", server.url + "/", read_timeout=0.3, verify=TLS)


async def test_a_connection_closed_before_the_answer_is_a_protocol_error(server: Server) -> None:
    def close(line: str) -> bytes:
        raise ConnectionResetError

    server.answer = close
    with pytest.raises(httpx.RemoteProtocolError):
        await get(server)


async def test_a_proxy_from_the_environment_is_used_unless_no_proxy_names_the_host(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = Server(lambda line: ok(b'{"via": "proxy"}'))
    listening = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    proxy.port = listening.sockets[0].getsockname()[1]
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        via = await http_pool.request("via-proxy", 1, "GET", server.url + "/a", read_timeout=2, verify=TLS)
        assert via.json() == {"via": "proxy"}
        assert proxy.requests[-1].startswith(f"GET {server.url}/a HTTP/1.1")  # the absolute form
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        direct = await http_pool.request("direct", 1, "GET", server.url + "/b", read_timeout=2, verify=TLS)
        assert direct.json() == {"ok": True}
    finally:
        await http_pool.close_all()
        listening.close()


def test_sessions_close_with_their_event_loop(caplog: pytest.LogCaptureFixture) -> None:
    """Nobody called `close_all`: the loop's end closes the sessions (no unclosed-session warning)."""
    made: list[object] = []

    async def read_once() -> int:
        found = Server(lambda line: ok(b"{}"))
        listening = await asyncio.start_server(found.handle, "127.0.0.1", 0)
        found.port = listening.sockets[0].getsockname()[1]
        answer = await http_pool.request("loop-end", 2, "GET", found.url, read_timeout=2, verify=TLS)
        made.extend(pool.session for pool in http_pool._pools[asyncio.get_running_loop()].values())
        listening.close()
        return answer.status_code

    assert asyncio.run(read_once()) == 200
    assert made and all(session.closed for session in made)  # type: ignore[attr-defined]
