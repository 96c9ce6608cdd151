"""LINE webhook cost: N signed `/me` deliveries through the real HTTP server on loopback.

Ours: uvicorn + Starlette + LineChannel.webhook (signature, durable inbox, 200), then the
work after the response (member, card, reply through line-bot-sdk to a local fake LINE API).
Baseline, same run, same server, client and fake LINE server: a bare Starlette endpoint that
verifies the signature, answers 200 and replies "hi" through line-bot-sdk with the event's
reply token. Both are timed from the first request until every reply has reached the fake
LINE server (ours: and its inbox row is marked answered). The two are alternated in chunks
within one run (the machine is noisy), with a third side: the same bare endpoint on the SDK
session our channel uses (bot.line_send.client: the environment read once, not in a worker
thread on every call, as the SDK's own session does), printed on its own line before the
last, so that what our session saves is not taken for what our work costs. Last line:

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
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn  # noqa: E402
from linebot.v3.messaging import (  # noqa: E402
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    ReplyMessageRequest,
    TextMessage,
)
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from bot.app import bootstrap  # noqa: E402
from bot.line import LineChannel  # noqa: E402
from bot.line_send import client  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.line_api import FakeLineAPI  # noqa: E402

SECRET, TOKEN, USERS = "bench-secret", "bench-token", 100


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def bodies(n: int, side: str) -> list[bytes]:
    made = []
    for i in range(n):
        user = f"U{i % USERS:032d}"
        made.append(json.dumps({"destination": "U" + "0" * 32, "events": [{
            "type": "message", "mode": "active", "timestamp": 1_700_000_000_000,
            "webhookEventId": f"01{side}{i:020d}", "deliveryContext": {"isRedelivery": False},
            "replyToken": f"{side}-token-{i}", "source": {"type": "user", "userId": user},
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


class Bare:
    """Verify the signature, answer 200, reply "hi" with the reply token through line-bot-sdk
    (`tuned`: on the SDK session our channel uses, bot.line_send.client, instead of the SDK's
    own, which looks in the environment on each call)."""

    def __init__(self, base_url: str, tuned: bool = False) -> None:
        self.configuration = Configuration(host=base_url, access_token=TOKEN)
        self.tasks: set[asyncio.Task[None]] = set()
        self.client: AsyncApiClient | None = None
        self.tuned = tuned

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        given = request.headers.get("x-line-signature", "")
        if not hmac.compare_digest(given.encode(), sign(body).encode()):
            return PlainTextResponse("forbidden", status_code=403)
        for event in json.loads(body)["events"]:
            task = asyncio.get_running_loop().create_task(self.reply(event["replyToken"]))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return PlainTextResponse("ok")

    async def reply(self, token: str) -> None:
        if self.client is None:
            self.client = (client(self.configuration) if self.tuned
                           else AsyncApiClient(self.configuration))
        await AsyncMessagingApi(self.client).reply_message(
            ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="hi")]))

    async def settle(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.settle()
        if self.client is not None:
            await self.client.close()


class Served:
    """One app on uvicorn (loopback, TCP_NODELAY) with a keep-alive client."""

    def __init__(self, app: Starlette, settle: Callable[[], Awaitable[None]]) -> None:
        self.app, self.settle = app, settle
        self.latencies: list[float] = []
        self.elapsed = 0.0

    async def __aenter__(self) -> Served:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited
        self.sock.bind(("127.0.0.1", 0))
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off"))
        self.serving = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            await asyncio.sleep(0.01)
        self.client = await Client.connect(self.sock.getsockname()[1])
        return self

    async def send(self, payloads: list[bytes], timed: bool = True) -> None:
        """Post each delivery in turn, then wait until every reply has reached LINE."""
        start = time.perf_counter()
        for body in payloads:
            sent = time.perf_counter()
            status = await self.client.post(body)
            if timed:
                self.latencies.append(time.perf_counter() - sent)
            assert status == 200, status
        await self.settle()
        if timed:
            self.elapsed += time.perf_counter() - start

    async def __aexit__(self, *exc: object) -> None:
        self.client.close()
        self.server.should_exit = True
        await self.serving
        self.sock.close()


async def run(n: int, chunk: int, home: Path, base_url: str) -> tuple[Served, Served, Served]:
    settings = Settings(database_url=f"sqlite:///{home / 'bench.sqlite3'}", home=home,
                        line_channel_secret=SECRET, line_access_token=TOKEN,
                        line_api_base_url=base_url)
    channel = LineChannel(bootstrap(settings).deps, settings)
    ours_web = Starlette(routes=[Route("/line", channel.webhook, methods=["POST"])])
    bare, tuned = Bare(base_url), Bare(base_url, tuned=True)
    bare_web = Starlette(routes=[Route("/line", bare.endpoint, methods=["POST"])])
    tuned_web = Starlette(routes=[Route("/line", tuned.endpoint, methods=["POST"])])
    ours_bodies, bare_bodies = bodies(n + USERS, "OURS"), bodies(n + USERS, "BARE")
    tuned_bodies = bodies(n + USERS, "TUNE")
    try:
        async with Served(bare_web, bare.settle) as bare_side, \
                Served(tuned_web, tuned.settle) as tuned_side, \
                Served(ours_web, channel.settle) as our_side:
            await bare_side.send(bare_bodies[:USERS], timed=False)  # warm-up: every member once
            await tuned_side.send(tuned_bodies[:USERS], timed=False)
            await our_side.send(ours_bodies[:USERS], timed=False)
            for at in range(USERS, USERS + n, chunk):
                await bare_side.send(bare_bodies[at:at + chunk])
                await tuned_side.send(tuned_bodies[at:at + chunk])
                await our_side.send(ours_bodies[at:at + chunk])
            return bare_side, tuned_side, our_side
    finally:
        await channel.close()
        await bare.close()
        await tuned.close()


def _serve_fake(ports: multiprocessing.Queue, answered: multiprocessing.Queue,
                stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    """The fake LINE API in its own process, so it does not share our interpreter's GIL."""
    with FakeLineAPI(token=TOKEN) as fake:
        for i in range(USERS):
            fake.add_user(f"U{i:032d}", f"member{i}")
        ports.put(fake.base_url)
        stop.wait()
        answered.put(len(fake.message_calls()))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    chunk = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    n = max(chunk, n // chunk * chunk)
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    counts: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    stop = multiprocessing.Event()
    fake_process = multiprocessing.Process(target=_serve_fake, args=(ports, counts, stop))
    fake_process.start()
    try:
        base_url = ports.get(timeout=30)
        with tempfile.TemporaryDirectory() as tmp:
            bare, tuned, ours = asyncio.run(run(n, chunk, Path(tmp), base_url))
    finally:
        stop.set()
        answered = counts.get(timeout=30)
        fake_process.join(timeout=30)
    assert answered >= 3 * (n + USERS), f"only {answered} replies reached LINE"
    p99 = statistics.quantiles(ours.latencies, n=100)[98] * 1000
    bare_p99 = statistics.quantiles(bare.latencies, n=100)[98] * 1000
    print(f"deliveries: {n} signed /me events each, alternated in chunks of {chunk}, "
          f"{USERS} members, SQLite file; replies at the fake LINE: {answered}")
    print(f"bare endpoint + reply: {bare.elapsed / n * 1000:.2f} ms each until replied; "
          f"response p99 {bare_p99:.2f} ms")
    print(f"tuanbot: {ours.elapsed / n * 1000:.2f} ms each until replied and marked answered; "
          f"response p99 {p99:.2f} ms")
    print(f"response only (verify + durable inbox + 200): mean "
          f"{statistics.mean(ours.latencies) * 1000:.2f} ms, ratio vs bare "
          f"{statistics.mean(ours.latencies) / statistics.mean(bare.latencies):.2f}")
    print(f"bare endpoint on our SDK session (bot.line_send.client): "
          f"{tuned.elapsed / n * 1000:.2f} ms each; ratio vs it {ours.elapsed / tuned.elapsed:.2f}")
    print(f"line webhook /me: p99 {p99:.1f} ms, cost ratio vs bare endpoint: "
          f"{ours.elapsed / bare.elapsed:.2f}")


if __name__ == "__main__":
    main()
