"""The reconciler on a queue_log file: calls the AMI stream missed completed with the right
end reason, agent and answer time; calls AMI follows left to it until they end; the saved
position the first line of the oldest open call, so a restart reads its lines again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hotline.controller.reconcile import Reconciler
from hotline.core.records import CallRecord, EndReason, Precision
from hotline.stores.history import History
from hotline.stores.queuelog_position import MemoryPosition, Position

T = 1_796_169_600  # 2026-12-02 00:00:00 UTC, in seconds as queue_log writes it
ARRIVES = f"{T}|c1|intake|NONE|ENTERQUEUE||13800138000|1\n"
ANSWERED = f"{T + 25}|c1|intake|王芳|CONNECT|25|{T + 25}.9|1\n"
HUNG_UP = f"{T + 60}|c1|intake|王芳|COMPLETECALLER|25|35|1\n"
C2_ARRIVES = f"{T + 30}|c2|intake|NONE|ENTERQUEUE||13900139000|2\n"
C2_GIVES_UP = f"{T + 50}|c2|intake|NONE|ABANDON|2|1|20\n"


class Parts:
    """A reconciler on ``queue_log`` with the position in memory and a real history."""

    def __init__(self, history: History, queue_log: Path, positions: MemoryPosition) -> None:
        self.calls: set[str] = set()
        self.flushed = 0
        self.pending: list[CallRecord] = []  # what AMI said, not flushed yet
        self.history = history
        self.reconciler = Reconciler(
            queue_log, positions=positions, calls=self.calls, flush=self.flush,
            history=history, interval=0.01,
        )  # fmt: skip

    async def flush(self) -> None:
        self.flushed += 1
        self.history.save_calls(self.pending)
        self.pending = []

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self.reconciler.run())
        try:
            yield
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    async def until(self, done: Callable[[], bool], lines: str = "") -> None:
        """Asterisk writes ``lines``: wait until ``done()`` (with the reconciler running)."""
        with self.reconciler.path.open("a", encoding="utf-8") as f:
            f.write(lines)
        async with asyncio.timeout(5):
            while not done():
                await asyncio.sleep(0.01)

    def run_until(self, done: Callable[[], bool], lines: str = "") -> None:
        """Start the reconciler, let Asterisk write ``lines``, stop once ``done()``."""

        async def run() -> None:
            async with self.running():
                await self.until(done, lines)

        asyncio.run(run())


@pytest.fixture
def queue_log(tmp_path: Path) -> Path:
    path = tmp_path / "queue_log"
    path.touch()
    return path


def test_a_call_the_ami_stream_missed_is_completed_from_queue_log(
    history: History, queue_log: Path
) -> None:
    parts = Parts(history, queue_log, MemoryPosition())
    lines = ARRIVES + ANSWERED + HUNG_UP + C2_ARRIVES + C2_GIVES_UP
    parts.run_until(lambda: parts.reconciler.stored == 2, lines)
    c1, c2 = history.call("c1"), history.call("c2")
    assert c1 is not None
    assert c2 is not None
    assert (c1.end_reason, c1.agent, c1.t_answer, c1.t_end, c1.completed_by) == (
        EndReason.ANSWERED, "王芳", (T + 25) * 1000, (T + 60) * 1000, "caller")  # fmt: skip
    assert c1.precision is Precision.SECOND
    assert "from queue_log: the controller was away" in c1.notes
    assert (c2.end_reason, c2.agent, c2.t_answer) == (EndReason.ABANDONED_IN_QUEUE, "", None)


def test_a_call_ami_follows_waits_until_it_ended_and_ami_s_record_is_kept(
    history: History, queue_log: Path
) -> None:
    parts = Parts(history, queue_log, MemoryPosition())
    parts.calls.add("c1")  # the agent hung up; AMI's Hangup of the caller has not come yet
    ours = CallRecord(
        call_id="c1", caller="13800138000", t_arrival=T * 1000 - 9_000, t_answer=T * 1000 + 25_123,
        agent="王芳", talk_end=T * 1000 + 60_450, completed_by="caller", t_end=T * 1000 + 60_456,
        end_reason=EndReason.ANSWERED,
    )  # fmt: skip

    async def run() -> None:
        async with parts.running():
            await parts.until(
                lambda: "c1" in parts.reconciler.deferred, ARRIVES + ANSWERED + HUNG_UP
            )
            await asyncio.sleep(0.05)
            assert history.call("c1") is None  # left to AMI
            # AMI's hangup: the record is pending in the outbox, the call no longer followed
            parts.pending.append(ours)
            parts.calls.discard("c1")
            await parts.until(lambda: not parts.reconciler.deferred)

    asyncio.run(run())
    assert parts.flushed >= 1  # AMI's record reached the history before it was compared
    assert history.call("c1") == ours  # AMI saw it to the millisecond: kept
    assert parts.reconciler.stored == 0


def test_a_vanished_call_gets_its_end_from_queue_log(history: History, queue_log: Path) -> None:
    """The controller lost AMI mid-call; at its resync the channel was gone."""
    parts = Parts(history, queue_log, MemoryPosition())
    history.save_calls([CallRecord(
        call_id="c1", t_arrival=T * 1000 - 9_000, ivr_path="language:1>main:4",
        t_end=T * 1000 + 300_000, end_reason=EndReason.VANISHED,
        notes=("channel gone at resync",),
    )])  # fmt: skip
    parts.run_until(lambda: parts.reconciler.stored == 1, ARRIVES + ANSWERED + HUNG_UP)
    c1 = history.call("c1")
    assert c1 is not None
    assert (c1.end_reason, c1.agent, c1.t_answer, c1.t_end) == (
        EndReason.ANSWERED, "王芳", (T + 25) * 1000, (T + 60) * 1000)  # fmt: skip
    assert (c1.t_arrival, c1.ivr_path) == (T * 1000 - 9_000, "language:1>main:4")


def test_the_saved_position_is_the_first_line_of_the_oldest_open_call(
    history: History, queue_log: Path
) -> None:
    positions = MemoryPosition()
    parts = Parts(history, queue_log, positions)
    saved = positions.saved
    first = len((ARRIVES + ANSWERED).encode())

    async def run() -> None:
        async with parts.running():
            await parts.until(lambda: len(saved) == 1, ARRIVES + ANSWERED)
            assert saved[-1].offset == 0  # c1 is open
            await parts.until(lambda: len(saved) == 2, C2_ARRIVES)
            assert saved[-1].offset == 0  # c1 still open (c2 from its own batch on)
            await parts.until(lambda: len(saved) == 3, HUNG_UP)
            assert saved[-1].offset == first  # c1 stored: c2's first line
            await parts.until(lambda: len(saved) == 4, C2_GIVES_UP)

    asyncio.run(run())
    assert saved[-1] == Position(queue_log.stat().st_size, (queue_log.stat().st_dev,
                                                            queue_log.stat().st_ino))  # fmt: skip


def test_a_restart_mid_call_reads_the_call_s_first_lines_again(
    history: History, queue_log: Path
) -> None:
    """kill -9 of the controller while c1 talks: after its restart the CONNECT is read again,
    so the call is stored with its agent and answer time, not from its last line alone."""
    positions = MemoryPosition()
    before = Parts(history, queue_log, positions)
    before.run_until(lambda: bool(positions.saved), ARRIVES + ANSWERED)
    after = Parts(history, queue_log, positions)  # a new controller, the same Redis
    after.run_until(lambda: after.reconciler.stored == 1, HUNG_UP)
    c1 = history.call("c1")
    assert c1 is not None
    assert (c1.end_reason, c1.agent, c1.t_answer) == (
        EndReason.ANSWERED, "王芳", (T + 25) * 1000)  # fmt: skip
    assert c1.visits[0].t_enter == T * 1000
