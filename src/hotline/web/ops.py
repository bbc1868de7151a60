"""/healthz and /metrics (Prometheus text format, version 0.0.4).

/metrics answers an admin's session, or a scraper's ``Authorization: Bearer`` token when
``HOTLINE_METRICS_TOKEN`` is set; it tells queue depth and longest wait, today's service
level per queue (strict and the labelled variants), whether the controller is connected
to AMI, how late it handles events, the speech-to-text backlog and the wallboard feed's lag.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from redis.exceptions import RedisError
from starlette.responses import PlainTextResponse, Response

from hotline.stores.dialect import DatabaseError
from hotline.stores.keys import KEYS
from hotline.stores.memory import MEMORY_WARN, Memory, memory
from hotline.stt import status
from hotline.web.context import Ctx
from hotline.web.errors import Forbidden
from hotline.web.guard import bearer_ok
from hotline.web.pages_board import today_figures
from hotline.web.roles import Role, Scope

PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


async def healthz(ctx: Ctx) -> Response:
    """200 "ok" when SQLite and Redis answer; 503 naming which does not (nothing more)."""
    down = []
    try:
        ctx.app.history.connection.execute("SELECT 1").fetchone()
    except DatabaseError:
        down.append("sqlite")
    try:
        await ctx.app.redis.ping()
    except (RedisError, OSError):
        down.append("redis")
    if down:
        return PlainTextResponse("down: " + ", ".join(down), 503)
    warning = (await redis_memory(ctx)).warning
    if warning:
        return PlainTextResponse(f"ok; warning: {warning}")
    return PlainTextResponse("ok")


async def redis_memory(ctx: Ctx) -> Memory:
    try:
        return memory(await ctx.app.redis.info("memory"))
    except (RedisError, OSError):
        return Memory(0, 0, "")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Out:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(
        self, name: str, kind: str, help_: str, samples: Iterable[tuple[dict[str, str], float]]
    ) -> None:
        self.lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
        for labels, value in samples:
            inner = ",".join(f'{k}="{_label(v)}"' for k, v in sorted(labels.items()))
            self.lines.append(f"{name}{{{inner}}} {value:g}" if inner else f"{name} {value:g}")


def _allowed(ctx: Ctx) -> bool:
    if ctx.session is not None and ctx.session.user.role is Role.ADMIN:
        return True
    return bearer_ok(ctx.request, ctx.app.settings.metrics_token)


async def stt_backlog(ctx: Ctx) -> int:
    """Jobs not yet done, counted as ``hotline stt status`` counts them (queued + running)."""
    redis = ctx.app.redis
    if not await redis.exists(KEYS.stt_jobs):
        return 0
    groups = await redis.xinfo_groups(KEYS.stt_jobs)
    queued, running = status.backlog(groups, int(await redis.xlen(KEYS.stt_jobs)))
    return queued + running


async def metrics(ctx: Ctx) -> Response:
    if not _allowed(ctx):
        raise Forbidden("metrics: an admin session or the bearer token is needed")
    out = _Out()
    now = ctx.app.clock()
    state = await ctx.app.hub.state(timeout=2.0)
    queues = state.docs.get("queue", {}) if state else {}
    out.metric(
        "hotline_queue_waiting",
        "gauge",
        "Callers waiting in the queue now.",
        [({"queue": q}, len(d.get("waiting") or [])) for q, d in sorted(queues.items())],
    )
    out.metric(
        "hotline_queue_longest_wait_seconds",
        "gauge",
        "The longest wait of a caller waiting now.",
        [
            (
                {"queue": q},
                max([now - int(w.get("since") or now) for w in d.get("waiting") or []] + [0])
                / 1000,
            )
            for q, d in sorted(queues.items())
        ],
    )
    agents = state.docs.get("agent", {}) if state else {}
    by_status: dict[str, int] = {}
    for doc in agents.values():
        by_status[str(doc.get("status"))] = by_status.get(str(doc.get("status")), 0) + 1
    out.metric(
        "hotline_agents",
        "gauge",
        "Logged-in agents by status.",
        [({"status": s}, n) for s, n in sorted(by_status.items())],
    )
    _, _, figures = today_figures(ctx, Scope(all=True))
    samples = [
        ({"queue": q, "formula": f}, fig["value"])
        for q, row in sorted(figures.items())
        for f, fig in row["figures"].items()
        if fig["value"] is not None
    ]
    out.metric(
        "hotline_service_level_ratio",
        "gauge",
        "Today's rates per queue ('*' = all) by formula (docs/metrics.md).",
        samples,
    )
    out.metric(
        "hotline_requests_today",
        "gauge",
        "Calls that asked for a human today.",
        [({"queue": q}, row["requests"]) for q, row in sorted(figures.items())],
    )
    raw = None
    try:
        raw = await ctx.app.redis.get(KEYS.controller_status)
        backlog = await stt_backlog(ctx)
    except (RedisError, OSError):
        backlog = -1
    status = json.loads(raw) if raw else {}
    out.metric(
        "hotline_controller_up",
        "gauge",
        "1 while the controller's heartbeat is fresh.",
        [({}, 1 if status else 0)],
    )
    out.metric(
        "hotline_ami_connected",
        "gauge",
        "1 while the controller is connected to AMI.",
        [({}, 1 if status.get("ami_connected") else 0)],
    )
    out.metric(
        "hotline_pbx_connected",
        "gauge",
        "1 while the controller's AMI link to this PBX is up (HOTLINE_PBXS).",
        [({"pbx": name}, 1 if up else 0) for name, up in (status.get("pbxs") or {}).items()],
    )
    out.metric(
        "hotline_event_lag_seconds",
        "gauge",
        "Handling time minus the AMI Timestamp of the controller's last event.",
        [({}, int(status.get("event_lag_ms") or 0) / 1000)],
    )
    out.metric(
        "hotline_stt_backlog",
        "gauge",
        "Speech-to-text jobs waiting (-1: unknown).",
        [({}, backlog)],
    )
    out.metric(
        "hotline_web_feed_lag_seconds",
        "gauge",
        "How late the web process handled the last live change (written to read).",
        [({}, ctx.app.hub.lag_ms / 1000)],
    )
    out.metric(
        "hotline_web_sse_clients", "gauge", "Open wallboard streams.", [({}, ctx.app.hub.clients)]
    )
    out.metric(
        "hotline_redis_up",
        "gauge",
        "1 while the live feed is read.",
        [({}, 0 if ctx.app.hub.error else 1)],
    )
    mem = await redis_memory(ctx)
    out.metric(
        "hotline_redis_memory_used_ratio",
        "gauge",
        f"Redis used_memory / maxmemory (-1: no limit); alarm from {MEMORY_WARN:g}.",
        [({}, mem.ratio if mem.ratio is not None else -1)],
    )
    return PlainTextResponse("\n".join(out.lines) + "\n", media_type=PROMETHEUS)
