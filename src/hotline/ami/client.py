"""A resilient asyncio AMI client on top of the sans-I/O :class:`~hotline.ami.protocol.Protocol`.

Usage::

    client = AMIClient(Endpoint("127.0.0.1", 5038, "hotline", secret))
    client.on_connect(resync)            # runs after every (re)login, before actions resume
    events = client.subscribe("QueueMemberPause", "AgentConnect")
    await client.start()                 # connects, then keeps reconnecting in the background
    reply = await client.action("QueuePause", {"Interface": "PJSIP/1001", "Paused": "true"})
    async for event in events: ...
    await client.close()

Replies are matched by ActionID, never by order. While disconnected an action fails at once
with :class:`NotConnected`: nothing is queued and nothing is re-sent after a reconnect, so a
non-idempotent action (Originate) runs at most once; :meth:`AMIClient.originate` tags the call
with a channel variable so its outcome can be looked up after a lost reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hotline.ami.errors import (
    ActionFailed,
    ActionTimeout,
    AMIError,
    ConnectFailed,
    ConnectionLost,
    LoginFailed,
    NotConnected,
    ProtocolError,
)
from hotline.ami.message import Action, EventList, Message, MessageKind
from hotline.ami.protocol import Protocol

log = logging.getLogger(__name__)

Headers = Mapping[str, str] | Sequence[tuple[str, str]]
Hook = Callable[["AMIClient"], Awaitable[None]]
ORIGINATE_TAG = "HOTLINE_ORIGINATE_ID"
READ_SIZE = 256 * 1024


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    username: str
    secret: str = field(repr=False)
    auth: str = "md5"  # "md5" (challenge-response) or "plain"


PING_GIVE_UP = 120.0  # a Ping unanswered this long drops the link even while bytes arrive


def frozen(waited: float, silent: float, rtt: float, opts: ClientOptions) -> bool:
    """Whether a peer is frozen: its Ping reply is late by the adaptive limit and nothing
    else arrived for ``ping_timeout`` either (a busy peer keeps sending events)."""
    limit = max(opts.ping_timeout, 4 * rtt)
    return waited > limit and silent > opts.ping_timeout


@dataclass(frozen=True, slots=True)
class ClientOptions:
    connect_timeout: float = 5.0
    action_timeout: float = 10.0
    # A frozen Asterisk (SIGSTOP, a deadlock) keeps the TCP connection open; only an
    # unanswered Ping reveals it. Detection takes at most ping_interval + ping_timeout.
    # A busy one answers late (the reply waits behind the events queued before it: 12.5 s
    # was seen at 200 calls on 2 cores) but keeps sending: the link is dropped only when
    # the reply is late by the adaptive limit (ping_timeout, or 4x the recent round trip,
    # whichever is longer) AND nothing at all arrived for ping_timeout.
    ping_interval: float = 5.0
    ping_timeout: float = 3.0
    # Asterisk accepts logins before its modules are loaded (QueueStatus is then an
    # "Invalid/unknown command"): hooks run only after FullyBooted, which it sends at once
    # to a session that logs in after boot.
    boot_timeout: float = 60.0
    backoff_initial: float = 0.2
    backoff_max: float = 10.0
    subscriber_queue: int = 10_000
    max_message_size: int = 1 << 20


@dataclass(slots=True)
class ClientStats:
    connects: int = 0
    disconnects: int = 0
    messages: int = 0
    slow_consumer_waits: int = 0
    """Times the reader had to wait for a full subscriber queue (back-pressure, not loss)."""
    last_error: str = ""
    last_disconnect: float = 0.0
    """Clock time at which the last logged-in session was lost."""
    ping_rtt: float = 0.0
    """Smoothed round trip of Ping (s): how far behind the PBX answers."""


class Subscription:
    """Events of the names asked for (all if none), in the order Asterisk sent them."""

    def __init__(self, client: AMIClient, names: frozenset[str], maxsize: int) -> None:
        self._client = client
        self.names = names
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize)

    def wants(self, name: str) -> bool:
        return not self.names or name in self.names

    async def get(self, timeout: float | None = None) -> Message:
        item = await asyncio.wait_for(self.queue.get(), timeout)
        if item is None:
            raise NotConnected("the client was closed")
        return item

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while (item := await self.queue.get()) is not None:
            yield item

    def take(self) -> list[Message]:
        """Take every event queued now, in order (a close stays queued)."""
        taken: list[Message] = []
        closed = False
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if item is None:
                closed = True
            else:
                taken.append(item)
        if closed:
            self.queue.put_nowait(None)
        return taken

    def close(self) -> None:
        self._client.unsubscribe(self)


def _header_pairs(headers: Headers) -> tuple[tuple[str, str], ...]:
    items: Iterable[tuple[str, str]] = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(k), str(v)) for k, v in items)


class AMIClient:
    def __init__(
        self,
        endpoint: Endpoint,
        options: ClientOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        new_action_id: Callable[[], str] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.options = options or ClientOptions()
        self.stats = ClientStats()
        self.fully_booted = asyncio.Event()
        self.last_received = 0.0
        self.tap: Callable[[bytes], None] | None = None
        """Called with every chunk read, before parsing (``hotline ami record`` saves them)."""
        self._clock = clock
        counter = itertools.count(1)
        self._new_id = new_action_id or (lambda: f"hotline-{next(counter)}")
        self._hooks: list[Hook] = []
        self._subs: list[Subscription] = []
        self._pending: dict[str, asyncio.Future[Message | EventList]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._logged_in = False
        self._protocol: Protocol | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._ready = asyncio.Event()
        self._closing = False

    # -- public API -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a logged-in session is up (hooks may still be running)."""
        return self._logged_in

    def quiet_s(self) -> float:
        """Seconds since anything last came from Asterisk (an event, a reply to Ping)."""
        return self._clock() - self.last_received

    def down_s(self) -> float:
        """Seconds since the last session was lost (meaningful while not connected)."""
        return self._clock() - self.stats.last_disconnect

    def on_connect(self, hook: Hook) -> None:
        """Run ``hook(client)`` after every successful login (the controller resyncs here)."""
        self._hooks.append(hook)

    def subscribe(self, *names: str, maxsize: int | None = None) -> Subscription:
        sub = Subscription(self, frozenset(names), maxsize or self.options.subscriber_queue)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subs.remove(sub)

    async def connect(self) -> None:
        """One attempt: connect, log in and run the on_connect hooks. No reconnecting."""
        await self._open()

    async def start(self, *, wait: bool = True) -> None:
        """Keep a session up in the background, reconnecting with capped backoff.

        With ``wait`` the call returns once the first session is ready.
        """
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")
        if wait:
            await self.wait_ready()

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self.connected:
            with contextlib.suppress(AMIError, OSError):
                await self.action("Logoff", timeout=1.0, check=False)
        await self._teardown("closed")
        for sub in self._subs:
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(None)

    async def action(
        self,
        name: str,
        headers: Headers = (),
        *,
        timeout: float | None = None,
        check: bool = True,
    ) -> Message | EventList:
        """Send an action; return its Response (or the whole EventList it started).

        Raises NotConnected at once while disconnected, ActionTimeout, ConnectionLost if the
        link drops before the reply, and ActionFailed for ``Response: Error`` when ``check``.
        """
        return await self._send(
            Action(name, _header_pairs(headers), self._new_id()), timeout, check
        )

    async def originate(self, headers: Headers, *, timeout: float = 30.0) -> tuple[str, Message]:
        """Originate asynchronously and wait for its OriginateResponse.

        The call carries ``HOTLINE_ORIGINATE_ID=<action id>`` as a channel variable, so after
        a lost reply the caller can find the channel (CoreShowChannels / Getvar) instead of
        originating twice. Returns the id and the OriginateResponse event; a failed call
        raises ActionFailed. (Asterisk finds uniqueids by prefix: a ChannelId must not be
        the start of an OtherChannelId or the originate fails.)
        """
        action_id = self._new_id()
        pairs = [p for p in _header_pairs(headers) if p[0].lower() != "async"]
        pairs += [("Async", "true"), ("Variable", f"{ORIGINATE_TAG}={action_id}")]
        responses = self.subscribe("OriginateResponse")
        try:
            await self._send(Action("Originate", tuple(pairs), action_id), timeout, True)
            deadline = self._clock() + timeout
            while True:
                event = await responses.get(max(0.0, deadline - self._clock()))
                if event.action_id != action_id:
                    continue
                if (event.get("Response") or "").lower() != "success":
                    # Reason is Asterisk's control frame cause: 0 no channel, 3 no answer,
                    # 5 busy, 8 congestion
                    raise ActionFailed(
                        f"Originate {action_id} failed (Reason {event.get('Reason')})", event
                    )
                return action_id, event
        except TimeoutError:
            raise ActionTimeout(f"no OriginateResponse for {action_id} in {timeout} s") from None
        finally:
            responses.close()

    # -- connection lifecycle ---------------------------------------------------------------

    async def _supervise(self) -> None:
        delay = self.options.backoff_initial
        while not self._closing:
            try:
                await self._open()
            # the task loop's top: an on_connect hook may fail for reasons of its own (the
            # controller's Redis is down too); the session was torn down, so try again later
            except Exception as exc:  # noqa: BLE001
                self.stats.last_error = str(exc)
                log.warning("AMI connect to %s failed: %s", self._where(), exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.options.backoff_max)
                continue
            delay = self.options.backoff_initial
            await self._lost.wait()

    def _where(self) -> str:
        return f"{self.endpoint.host}:{self.endpoint.port}"

    async def _open(self) -> None:
        opts = self.options
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.endpoint.host, self.endpoint.port),
                opts.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise ConnectFailed(f"cannot reach AMI at {self._where()}: {exc}") from exc
        self._protocol = Protocol(max_message_size=opts.max_message_size)
        self._writer = writer
        self._lost.clear()
        greeting: asyncio.Future[Message | EventList] = asyncio.get_running_loop().create_future()
        self._pending["<greeting>"] = greeting
        self._tasks = [asyncio.create_task(self._read(reader), name="ami-reader")]
        try:
            await asyncio.wait_for(greeting, opts.connect_timeout)
            await self._login()
            self._logged_in = True
            self.stats.connects += 1
            self._tasks.append(asyncio.create_task(self._ping(), name="ami-ping"))
            try:
                await asyncio.wait_for(self.fully_booted.wait(), opts.boot_timeout)
            except TimeoutError:
                raise ConnectFailed(f"Asterisk not FullyBooted in {opts.boot_timeout} s") from None
            for hook in self._hooks:
                await hook(self)
        except BaseException:
            await self._teardown("login failed")
            raise
        self._ready.set()

    async def _login(self) -> None:
        ep = self.endpoint
        try:
            if ep.auth == "md5":
                reply = await self.action("Challenge", {"AuthType": "MD5"})
                assert isinstance(reply, Message)
                key = hashlib.md5(
                    ((reply.get("Challenge") or "") + ep.secret).encode(), usedforsecurity=False
                ).hexdigest()
                creds = {"AuthType": "MD5", "Username": ep.username, "Key": key}
            else:
                creds = {"Username": ep.username, "Secret": ep.secret}
            await self.action("Login", {**creds, "Events": "on"})
        except ActionFailed as exc:
            raise LoginFailed(f"AMI login as {ep.username!r} refused: {exc}") from None

    async def _teardown(self, why: str) -> None:
        writer, self._writer = self._writer, None
        if self._logged_in:
            self._logged_in = False
            self.stats.disconnects += 1
            self.stats.last_disconnect = self._clock()
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
        self._ready.clear()
        self.fully_booted.clear()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._tasks = []
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(f"AMI connection {why} before the reply"))
        self._lost.set()

    # -- reading and writing ----------------------------------------------------------------

    async def _send(self, act: Action, timeout: float | None, check: bool) -> Message | EventList:
        writer, protocol = self._writer, self._protocol
        logging_in = act.name in ("Challenge", "Login")
        if writer is None or protocol is None or not (self._logged_in or logging_in):
            raise NotConnected(f"not connected to AMI at {self._where()}; {act.name} not sent")
        future: asyncio.Future[Message | EventList] = asyncio.get_running_loop().create_future()
        self._pending[act.action_id] = future
        try:
            writer.write(protocol.send(act))
            limit = self.options.action_timeout if timeout is None else timeout
            try:
                reply = await asyncio.wait_for(asyncio.shield(future), limit)
            except TimeoutError:
                raise ActionTimeout(
                    f"{act.name} ({act.action_id}): no reply in {limit} s"
                ) from None
        finally:
            self._pending.pop(act.action_id, None)
        response = reply.response if isinstance(reply, EventList) else reply
        if check and (response.get("Response") or "").lower() == "error":
            raise ActionFailed(f"{act.name}: {response.get('Message') or 'error'}", response)
        return reply

    async def _read(self, reader: asyncio.StreamReader) -> None:
        protocol = self._protocol
        assert protocol is not None
        why = "closed by Asterisk"
        try:
            while data := await reader.read(READ_SIZE):
                self.last_received = self._clock()
                if self.tap is not None:
                    self.tap(data)
                for item in protocol.receive_data(data):
                    await self._dispatch(item)
        except ProtocolError as exc:
            for item in exc.items:  # what arrived before the bad message still counts
                await self._dispatch(item)
            why = f"dropped: {exc}"
            self.stats.last_error = str(exc)
            log.error("AMI protocol error from %s: %s", self._where(), exc)
        except AMIError as exc:
            why = f"dropped: {exc}"
            self.stats.last_error = str(exc)
            log.error("AMI protocol error from %s: %s", self._where(), exc)
        except (OSError, ConnectionError) as exc:
            why = f"dropped: {exc}"
        await self._teardown(why)

    async def _dispatch(self, item: Message | EventList) -> None:
        self.stats.messages += 1
        if isinstance(item, Message) and item.kind is MessageKind.GREETING:
            self._resolve("<greeting>", item)
            return
        if isinstance(item, EventList) or item.kind is MessageKind.RESPONSE:
            if item.action_id is not None:
                self._resolve(item.action_id, item)
            return
        name = item.name
        if name == "FullyBooted":
            self.fully_booted.set()
        for sub in self._subs:
            if sub.wants(name):
                try:  # put_nowait: no coroutine and no repeated full() check per event
                    sub.queue.put_nowait(item)
                except asyncio.QueueFull:
                    self.stats.slow_consumer_waits += 1
                    await sub.queue.put(item)

    def _resolve(self, key: str, item: Message | EventList) -> None:
        future = self._pending.get(key)
        if future is not None and not future.done():
            future.set_result(item)

    async def _ping(self) -> None:
        opts = self.options
        while True:
            await asyncio.sleep(opts.ping_interval)
            sent = self._clock()
            reply = asyncio.ensure_future(self.action("Ping", timeout=PING_GIVE_UP))
            try:
                while True:
                    done, _ = await asyncio.wait([reply], timeout=min(0.25, opts.ping_timeout))
                    if done:
                        reply.result()
                        break
                    now = self._clock()
                    if not frozen(now - sent, now - self.last_received, self.stats.ping_rtt, opts):
                        continue
                    log.error("AMI at %s did not answer Ping: dropping the link", self._where())
                    self.stats.last_error = "ping timeout"
                    await self._teardown(
                        f"frozen (no Ping reply and nothing else in {opts.ping_timeout} s)"
                    )
                    return
            except ActionTimeout:
                self.stats.last_error = "ping timeout"
                await self._teardown(f"no Ping reply in {PING_GIVE_UP} s")
                return
            except AMIError:
                return
            finally:
                reply.cancel()
            rtt = self._clock() - sent
            previous = self.stats.ping_rtt
            self.stats.ping_rtt = rtt if previous == 0 else 0.8 * previous + 0.2 * rtt
