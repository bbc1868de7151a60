"""The web's live path: an AMI event → the wallboard's DOM, with 50 SSE clients.

Everything real, on this machine: the bundled Asterisk, a private redis-server, `hotline
controller` and `hotline web` as processes of their own (as `make run` starts them). One
member, ``bench01``, is paused and unpaused over AMI (QueuePause) ROUNDS times; for each
change the latency is measured from the QueueMemberPause event's ``Timestamp`` (Asterisk's
clock) to

- the DOM: a chromium page (Playwright, /usr/bin/chromium) signed in as an admin, whose
  MutationObserver notes when the row's ``data-status`` changes (``Date.now()``);
- the other 49 clients: raw SSE readers (httpx2 streaming) noting when the change arrives.

Peer, in the same run: a raw Redis PUBLISH to 50 SUBSCRIBE clients on this Redis — the
transport floor without Asterisk, the controller, the feed or the web.

    .venv/bin/python bench/web.py [--rounds 40] [--clients 50]

Then search latency through the web: DOCS synthetic transcripts (bench/corpus.py, the search
benchmark's generator) in the same SQLite file, searched by an auditor over HTTP
(POST /audit/search: session, CSRF, filters, the search, masking, the access log entry, the
page) against ``TranscriptStore.search`` called directly on the same file (the peer).

    .venv/bin/python bench/web.py [--rounds 40] [--clients 50] [--docs 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import redis.asyncio as aredis
from playwright.async_api import async_playwright

import corpus
from bed import free_port, private_pbx
from hotline.ami.client import AMIClient
from hotline.ami.timestamps import event_ms
from hotline.host.settings import Settings
from hotline.pbx import runner as pbx
from hotline.recordings.leg import Leg
from hotline.stores import redis_server
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript
from hotline.web.accounts import Accounts
from hotline.web.roles import Role

MEMBER, QUEUE = "bench01", "intake"
QUERIES = ("物业", "拖欠工资", "噪", "漏水", "WiFi", "电梯 物业", "加装电梯")
INTERFACE = "Local/8801@hotline-test-agent/n"
PASSWORD = "bench password 1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WATCH = """(name) => {
  window.__changes = [];
  const body = document.querySelector('#agents tbody');
  let last = null;
  const look = () => {
    const row = body.querySelector(`tr[data-agent="${name}"]`);
    const status = row && row.dataset.status;
    if (status && status !== last) { last = status; window.__changes.push([status, Date.now()]); }
  };
  new MutationObserver(look).observe(body, {childList: true, subtree: true, attributes: true});
  look();
}"""


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<44} no samples"
    return (
        f"{name:<44} n={len(values):<5} p50 {pct(values, 50):7.1f} ms  "
        f"p99 {pct(values, 99):7.1f} ms  max {max(values):7.1f} ms"
    )


@dataclass
class SseClient:
    """A raw EventSource: notes (status, arrival ms) of each change of MEMBER."""

    seen: list[tuple[str, int]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, url: str, cookies: dict[str, str]) -> None:
        async with (
            httpx.AsyncClient(base_url=url, cookies=cookies, timeout=None) as client,
            client.stream("GET", "/events", headers={"accept": "text/event-stream"}) as response,
        ):
            buffer = ""
            async for chunk in response.aiter_text():
                buffer += chunk
                while "\n\n" in buffer:
                    event, buffer = buffer.split("\n\n", 1)
                    if "event: hello" in event:
                        self.ready.set()
                    elif "event: change" in event and f'"id":"{MEMBER}"' in event:
                        data = json.loads(event.split("data: ", 1)[1])
                        if data["doc"]:
                            self.seen.append((data["doc"]["status"], wall_ms()))


def fill(db: Path, docs: int) -> float:
    """DOCS transcripts into the web's database; the seconds it took (index included)."""
    store = TranscriptStore.open(db)
    started = time.perf_counter()
    batch: list[Transcript] = []
    for call_id, leg, text in corpus.transcripts(docs):
        batch.append(Transcript(call_id, Leg(leg), "bench", "corpus", "zh", text))
        if len(batch) == 5000:
            store.save_many(batch)
            batch = []
    store.save_many(batch)
    store.close()
    return time.perf_counter() - started


async def search_latency(url: str, db: Path, reps: int) -> tuple[list[float], list[float]]:
    """ms per first page and count: through the web (HTTP) and the store directly."""
    cookies = await login(url, "auditor")
    web_ms: list[float] = []
    direct_ms: list[float] = []
    store = TranscriptStore.open(db)
    async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=60) as client:
        page = await client.get("/audit/search")
        token = re.search(r'<meta name="csrf" content="([^"]+)"', page.text)
        assert token, page.text
        csrf = token.group(1)
        r = await client.post("/audit/purpose", data={"csrf": csrf, "purpose": "BENCH-1"})
        assert r.status_code == 303, r.text
        for _ in range(reps):
            for q in QUERIES:
                t0 = time.perf_counter()
                r = await client.post("/audit/search", data={"csrf": csrf, "q": q})
                web_ms.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text[:300]
                t0 = time.perf_counter()
                store.search(q, limit=20)
                store.search_count(q)
                direct_ms.append((time.perf_counter() - t0) * 1000)
    store.close()
    return web_ms, direct_ms


async def login(url: str, username: str = "admin") -> dict[str, str]:
    async with httpx.AsyncClient(base_url=url) as client:
        page = await client.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
        assert token, page.text
        form = {"username": username, "password": PASSWORD, "login_csrf": token.group(1)}
        r = await client.post("/login", data=form)
        assert r.status_code == 303, r.text
        return dict(client.cookies.items())


async def redis_peer_each(url: str, clients: int, rounds: int) -> list[float]:
    """As redis_peer, but each subscriber's own receipt time (its own task)."""
    subs = [aredis.Redis.from_url(url) for _ in range(clients)]
    pubsubs = [s.pubsub() for s in subs]
    for p in pubsubs:
        await p.subscribe("hotline:bench:peer")
        await p.get_message(timeout=1.0)
    publisher = aredis.Redis.from_url(url)
    latencies: list[float] = []

    async def receive(p: aredis.client.PubSub, sent: float) -> None:
        while True:
            msg = await p.get_message(timeout=2.0)
            if msg is not None and msg["type"] == "message":
                latencies.append((time.perf_counter() - sent) * 1000)
                return

    for _ in range(rounds):
        sent = time.perf_counter()
        tasks = [asyncio.create_task(receive(p, sent)) for p in pubsubs]
        await publisher.publish("hotline:bench:peer", "x")
        await asyncio.gather(*tasks)
        await asyncio.sleep(0.05)
    for p in pubsubs:
        await p.aclose()
    for s in [*subs, publisher]:
        await s.aclose()
    return latencies


async def bench(
    settings: Settings, env: dict[str, str], rounds: int, clients: int, docs: int
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    logs = settings.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    accounts = Accounts.open(settings.db)
    accounts.add("admin", PASSWORD, Role.ADMIN, now=wall_ms())
    accounts.add("auditor", PASSWORD, Role.AUDITOR, now=wall_ms())
    accounts.close()
    fill_s = fill(settings.db, docs) if docs else 0.0
    procs = []
    for args, name in ((["controller"], "controller"), (["web", "--port", str(port)], "web")):
        out = (logs / f"{name}.log").open("ab")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "hotline", *args],
                env={**os.environ, **env},
                stdout=out,
                stderr=out,
            )
        )
    client = AMIClient(pbx.endpoint(settings))
    try:
        await client.connect()
        deadline = time.monotonic() + 30
        while True:
            try:
                async with httpx.AsyncClient(base_url=url) as c:
                    if (await c.get("/healthz")).status_code == 200:
                        break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the web did not start"
            await asyncio.sleep(0.2)
        await client.action(
            "QueueAdd",
            {"Queue": QUEUE, "Interface": INTERFACE, "MemberName": MEMBER, "Paused": "false"},
        )
        cookies = await login(url)
        raw = [SseClient() for _ in range(clients - 1)]
        readers = [asyncio.create_task(r.run(url, cookies)) for r in raw]
        await asyncio.wait_for(asyncio.gather(*(r.ready.wait() for r in raw)), 30)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = await browser.new_context(viewport={"width": 1920, "height": 1080})
            await context.add_cookies(
                [{"name": k, "value": v, "url": url} for k, v in cookies.items()]
            )
            page = await context.new_page()
            await page.goto(url + "/wallboard")
            await page.wait_for_selector('#live[data-live="1"]', timeout=15_000)
            await page.wait_for_selector(f'#agents tr[data-agent="{MEMBER}"]', timeout=15_000)
            await page.evaluate(WATCH, MEMBER)
            events = client.subscribe("QueueMemberPause")
            stamps: list[tuple[str, int]] = []
            for i in range(rounds):
                paused = i % 2 == 0
                await client.action(
                    "QueuePause",
                    {
                        "Queue": QUEUE,
                        "Interface": INTERFACE,
                        "Paused": "true" if paused else "false",
                        **({"Reason": "busy"} if paused else {}),
                    },
                )
                async for event in events:
                    if event.get("MemberName") == MEMBER:
                        stamp = event_ms(event)
                        assert stamp is not None
                        stamps.append(("busy" if paused else "ready", stamp))
                        break
                await asyncio.sleep(0.4)
            await asyncio.sleep(1.0)
            dom = await page.evaluate("() => window.__changes")
            await browser.close()
        for r in readers:
            r.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        searched = await search_latency(url, settings.db, 3) if docs else ([], [])
    finally:
        await client.close()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(15)

    def match(seen: list[tuple[str, int]]) -> list[float]:
        """Latency of each change: its first sighting after the AMI event."""
        out, j = [], 0
        for status, t0 in stamps:
            while j < len(seen) and (seen[j][0] != status or seen[j][1] < t0 - 50):
                j += 1
            if j < len(seen):
                out.append(float(seen[j][1] - t0))
                j += 1
        return out

    dom_latency = match([(s, int(t)) for s, t in dom[1:]])  # [0] is the state at the start
    sse_latency = [v for r in raw for v in match(r.seen)]
    peer = await redis_peer_each(redis_server.url(settings), clients, rounds)
    print(
        f"\n{rounds} pause/unpause changes; {clients} SSE clients (1 chromium page + "
        f"{clients - 1} raw readers); {platform.machine()}, {os.cpu_count()} cores (shared)"
    )
    print(summary("AMI event -> chromium DOM update", dom_latency))
    print(summary(f"AMI event -> SSE arrival ({clients - 1} raw clients)", sse_latency))
    print(summary(f"peer: Redis PUBLISH -> {clients} SUBSCRIBE", peer))
    if dom_latency and peer:
        print(f"ratio p50 DOM / peer: {pct(dom_latency, 50) / max(pct(peer, 50), 0.001):.1f}x")
    if docs:
        web_ms, direct_ms = searched
        print(
            f"\nsearch, {docs} transcripts (filled in {fill_s:.1f} s), {len(QUERIES)} queries "
            "x 3, first page of 20 + count:"
        )
        print(summary("through the web (POST /audit/search, HTTP)", web_ms))
        print(summary("peer: TranscriptStore.search + search_count", direct_ms))
        print(f"ratio p50 web / direct: {pct(web_ms, 50) / max(pct(direct_ms, 50), 0.001):.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--docs", type=int, default=20_000, help="transcripts to search (0: none)")
    args = parser.parse_args()
    if not Path(CHROMIUM).is_file():
        sys.exit(f"bench/web.py needs {CHROMIUM}: run scripts/setup as root (installs chromium)")
    with private_pbx("web") as (settings, env):
        asyncio.run(bench(settings, env, args.rounds, args.clients, args.docs))


if __name__ == "__main__":
    main()
