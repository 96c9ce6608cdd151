"""LINE webhook cost: N signed `/me` deliveries through the real HTTP server on loopback.

Ours: uvicorn + Starlette + LineChannel.webhook (signature, durable inbox, 200), then the
work after the response (member, card, reply through line-bot-sdk to a local fake LINE API).
Baseline, same run, same server and client: a bare Starlette endpoint that verifies the
signature and returns 200. Timed from the first request until every answer has reached the
fake LINE server (ours) or every 200 has come back (bare). Last line:

    line webhook /me: p99 P ms, cost ratio vs bare endpoint: X

    python bench/webhook.py [N]
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from bot.app import bootstrap  # noqa: E402
from bot.line import LineChannel  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.line_api import FakeLineAPI  # noqa: E402

SECRET, TOKEN, USERS = "bench-secret", "bench-token", 100


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def bodies(n: int) -> list[bytes]:
    made = []
    for i in range(n):
        user = f"U{i % USERS:032d}"
        made.append(json.dumps({"destination": "U" + "0" * 32, "events": [{
            "type": "message", "mode": "active", "timestamp": 1_700_000_000_000,
            "webhookEventId": f"01BENCH{i:020d}", "deliveryContext": {"isRedelivery": False},
            "replyToken": f"token-{i}", "source": {"type": "user", "userId": user},
            "message": {"id": str(900_000 + i), "type": "text", "quoteToken": "q", "text": "/me"},
        }]}).encode())
    return made


class Client:
    """A keep-alive HTTP/1.1 client that writes each request in one piece with TCP_NODELAY
    (a client that sends headers and body separately meets Nagle + delayed ACK: +40 ms)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def post(self, body: bytes) -> int:
        head = (f"POST /line HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"X-Line-Signature: {sign(body)}\r\nContent-Length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    def close(self) -> None:
        self.writer.close()


def bare_app() -> Starlette:
    async def endpoint(request: Request) -> Response:
        body = await request.body()
        given = request.headers.get("x-line-signature", "")
        if not hmac.compare_digest(given.encode(), sign(body).encode()):
            return PlainTextResponse("forbidden", status_code=403)
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/line", endpoint, methods=["POST"])])


async def drive(app: Starlette, payloads: list[bytes], settle=None) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    latencies = []
    client = await Client.connect(sock.getsockname()[1])
    for body in payloads[:20]:  # warm-up
        await client.post(body)
    if settle is not None:
        await settle()
    start = time.perf_counter()
    for body in payloads[20:]:
        sent = time.perf_counter()
        status = await client.post(body)
        latencies.append(time.perf_counter() - sent)
        assert status == 200, status
    if settle is not None:
        await settle()
    elapsed = time.perf_counter() - start
    client.close()
    server.should_exit = True
    await serving
    sock.close()
    return elapsed, latencies


async def ours(payloads: list[bytes], home: Path, fake: FakeLineAPI) -> tuple[float, list[float]]:
    settings = Settings(database_url=f"sqlite:///{home / 'bench.sqlite3'}", home=home,
                        line_channel_secret=SECRET, line_access_token=TOKEN,
                        line_api_base_url=fake.base_url)
    app = bootstrap(settings)
    channel = LineChannel(app.deps, settings)
    web = Starlette(routes=[Route("/line", channel.webhook, methods=["POST"])])
    try:
        return await drive(web, payloads, channel.settle)
    finally:
        await channel.close()


def _serve_fake(ports: multiprocessing.Queue, answered: multiprocessing.Queue,
                stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    """The fake LINE API in its own process, so it does not share our interpreter's GIL."""
    with FakeLineAPI(token=TOKEN) as fake:
        for i in range(USERS):
            fake.add_user(f"U{i:032d}", f"member{i}")
        ports.put(fake.base_url)
        stop.wait()
        answered.put(len(fake.message_calls()))


class RemoteFake:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    payloads = bodies(n + 20)
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    counts: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    stop = multiprocessing.Event()
    fake_process = multiprocessing.Process(target=_serve_fake, args=(ports, counts, stop))
    fake_process.start()
    try:
        fake = RemoteFake(ports.get(timeout=30))
        with tempfile.TemporaryDirectory() as tmp:
            bare_s, bare_lat = asyncio.run(drive(bare_app(), payloads))
            ours_s, ours_lat = asyncio.run(ours(payloads, Path(tmp), fake))  # type: ignore[arg-type]
    finally:
        stop.set()
        answered = counts.get(timeout=30)
        fake_process.join(timeout=30)
    p99 = statistics.quantiles(ours_lat, n=100)[98] * 1000
    print(f"deliveries: {n} signed /me events, {USERS} members, SQLite file; answered: {answered}")
    print(f"bare endpoint: {bare_s / n * 1000:.2f} ms each, p99 "
          f"{statistics.quantiles(bare_lat, n=100)[98] * 1000:.2f} ms")
    print(f"tuanbot: {ours_s / n * 1000:.2f} ms each until answered; response p99 {p99:.2f} ms")
    print(f"response only (verify + durable inbox + 200): mean "
          f"{statistics.mean(ours_lat) * 1000:.2f} ms, ratio vs bare "
          f"{statistics.mean(ours_lat) / statistics.mean(bare_lat):.2f}")
    print(f"line webhook /me: p99 {p99:.1f} ms, cost ratio vs bare endpoint: {ours_s / bare_s:.2f}")


if __name__ == "__main__":
    main()
