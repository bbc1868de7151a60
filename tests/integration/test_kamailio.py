"""Two bundled PBXs behind a real Kamailio (issue 16): the SIP side of the centre.

The session's bed (tests/integration/multibed.py, conftest ``kamailio_bed``): Kamailio on
127.0.0.1, PBX A on 127.0.0.2 and PBX B on 127.0.0.3, SIPp agents 1001 and 1002 registered
at Kamailio; 1001 is made a member of ``intake`` on both PBXs. Citizens are SIPp IVR
callers sent to Kamailio. The failover test stops PBX B, so it runs after the calls.
Figures go to ``kamailio-figures.json`` beside the bed (and are printed) for
docs/architecture.md "Scale-out".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.ami.client import AMIClient
from hotline.host.settings import Settings
from hotline.pbx import kamailio_run
from hotline.pbx import runner as pbx
from tests.conftest import bed_env, hotline
from tests.integration.multibed import (
    ADDRESSES,
    Centre,
    answered_by,
    call,
    most_at_once,
    place,
    register,
    setup_seconds,
)

AGENT = "1001"
UNREGISTERED = "1003"  # in center.yaml, never registered before the qualify test
FIGURES: dict[str, object] = {}


@pytest.fixture(scope="module")
def centre(kamailio_bed: Centre) -> Iterator[Centre]:
    kamailio_bed.ensure_running()
    try:
        yield kamailio_bed
    finally:
        (kamailio_bed.base / "kamailio-figures.json").write_text(json.dumps(FIGURES, indent=2))
        print("figures:", json.dumps(FIGURES))


def test_bad_settings_get_a_clear_error(tmp_path: Path) -> None:
    env = {"HOTLINE_RUN_DIR": str(tmp_path), "HOTLINE_KAMAILIO": "127.0.0.1:5999"}
    done = hotline(env, "kamailio", "start")
    assert done.returncode == 1
    assert "HOTLINE_KAMAILIO_PBXS is not set" in done.stderr
    done = hotline({**env, "HOTLINE_KAMAILIO_PBXS": "127.0.0.1:5999"}, "kamailio", "render")
    assert (done.returncode, "is Kamailio's own address" in done.stderr) == (1, True)
    done = hotline({**env, "HOTLINE_KAMAILIO": "sip.example"}, "kamailio", "render")
    assert (done.returncode, "is not an IPv4 address" in done.stderr) == (2, True)
    done = hotline({"HOTLINE_RUN_DIR": str(tmp_path)}, "kamailio", "status")
    assert (done.returncode, done.stdout.strip()) == (3, "Kamailio: stopped")
    # a PBX of a centre needs its own name
    pbx_env = {**bed_env(tmp_path / "pbx"), "HOTLINE_KAMAILIO": "127.0.0.1:5999"}
    done = hotline(pbx_env, "pbx", "start")
    assert done.returncode == 1
    assert "HOTLINE_KAMAILIO needs HOTLINE_PBX_NAME" in done.stderr


async def _ami(settings: Settings) -> AMIClient:
    client = AMIClient(pbx.endpoint(settings))
    await client.connect()
    return client


def test_kamailio_sees_both_pbxs_up_and_each_pbx_is_one_of_a_centre(centre: Centre) -> None:
    status = kamailio_run.status(centre.kamailio)
    assert status.state is kamailio_run.KamailioState.RUNNING
    deadline = time.monotonic() + 5
    while not all(d.up for d in status.pbxs) and time.monotonic() < deadline:
        time.sleep(0.2)
        status = kamailio_run.status(centre.kamailio)
    assert sorted(d.uri for d in status.pbxs if d.up) == sorted(
        f"sip:{s.sip_address}:{s.sip_port}" for s in centre.pbxs
    ), status.describe()
    # each PBX has its own systemname and entity id
    seen = []
    for settings in centre.pbxs:
        shown = pbx.cli(settings, "core show settings")
        name = re.search(r"System name:\s*(\S+)", shown)
        eid = re.search(r"Entity ID:\s*(\S+)", shown)
        assert name, shown
        assert eid, shown
        seen.append((name.group(1), eid.group(1)))
    assert [n for n, _ in seen] == ["pbx-a", "pbx-b"]
    assert seen[0][1] != seen[1][1]


def test_pbxs_qualify_agents_through_kamailio(centre: Centre) -> None:
    """Check 6: each PBX's qualify of sip:<ext>@kamailio reaches the registered phone (its
    200: Avail); an unregistered agent's gets Kamailio's 404, which qualify_2xx_only
    turns into Unavail (Asterisk would take any reply as reachable)."""
    statuses, began = {}, time.monotonic()
    for settings in centre.pbxs:
        deadline = time.monotonic() + 45  # qualify_frequency 30 s; the first one at load
        while True:
            shown = pbx.cli(settings, "pjsip show contacts")
            rows = {
                ext: re.search(rf"{ext}/sip:{ext}@\S+\s+\S+\s+(\w+)", shown)
                for ext in (AGENT, UNREGISTERED)
            }
            got = {ext: (m.group(1) if m else None) for ext, m in rows.items()}
            if got == {AGENT: "Avail", UNREGISTERED: "Unavail"}:
                break
            assert time.monotonic() < deadline, shown
            time.sleep(1)
        statuses[settings.pbx_name] = got
    FIGURES["qualify"] = statuses
    FIGURES["qualify_settled_s"] = round(time.monotonic() - began, 1)


def test_citizens_land_on_both_pbxs_and_one_agent_is_never_rung_twice(centre: Centre) -> None:
    """Checks 1 and 2: calls waiting on both PBXs, one agent in both queues: her phone
    never has two calls at once; Kamailio's 486s are counted."""

    async def scenario() -> list[object]:
        clients = [await _ami(s) for s in centre.pbxs]
        try:
            for client in clients:
                await client.action(
                    "QueueAdd",
                    {"Queue": "intake", "Interface": f"PJSIP/{AGENT}", "MemberName": AGENT},
                )
            since = centre.log_size()
            done = await asyncio.gather(*await place(centre, 6, "callers", 60000, timeout=100))
            for client in clients:
                await client.action(
                    "QueueRemove", {"Queue": "intake", "Interface": f"PJSIP/{AGENT}"}
                )
            return [since, *done]
        finally:
            for client in clients:
                await client.close()

    since, *runs = asyncio.run(scenario())
    routed = centre.log_lines("hotline: at=", since)  # type: ignore[arg-type]
    to_pbx = [re.search(r"to PBX sip:([\d.]+):", ln) for ln in routed if " call " in ln]
    busy = [ln for ln in routed if " 486 agent=" in ln]
    calls = centre.agents[0].calls()
    by_pbx = {addr: sum(1 for c in calls if c.pbx == addr) for addr in ADDRESSES}
    FIGURES["calls"] = {
        "citizens": len(runs),
        "routed_to": {a: sum(1 for m in to_pbx if m and m.group(1) == a) for a in ADDRESSES},
        "agent_answered_from": by_pbx,
        "kamailio_486": len(busy),
        "agent_most_at_once": most_at_once(calls),
    }
    why = json.dumps(FIGURES["calls"]) + "\n" + "\n".join(routed[-30:])
    # citizens were spread over both PBXs, and the agent answered calls from both
    assert FIGURES["calls"]["routed_to"] == {ADDRESSES[0]: 3, ADDRESSES[1]: 3}, why  # type: ignore[index]
    assert min(by_pbx.values()) >= 2, why
    assert len(calls) == len(runs), why
    # never two calls at once on her phone, although both PBXs tried: Kamailio said 486
    assert most_at_once(calls) == 1, why
    assert busy, why
    # app_queue took the 486 as busy, never paused her (autopausebusy=no): queue_log
    lines, waits = [], {}
    for settings in centre.pbxs:
        log = settings.pbx_dir / "log" / "queue_log"
        mine = [ln.split("|") for ln in log.read_text().splitlines() if f"|{AGENT}|" in ln]
        lines += mine
        # CONNECT's first field: the caller's wait (s): the order is per PBX
        waits[str(settings.pbx_name)] = [int(f[5]) for f in mine if f[4] == "CONNECT"]
    events = sorted({f[4] for f in lines})
    FIGURES["queue_log_events_of_agent"] = events
    # Kamailio's 486 reaches queue_log as RINGNOANSWER with a ring time of 0 ms
    FIGURES["ringnoanswer_ms"] = [f[5] for f in lines if f[4] == "RINGNOANSWER"]
    FIGURES["waits_s_by_pbx"] = waits
    assert not {"PAUSE", "PAUSEALL"} & set(events), events
    # the guard's lock works (without lock_set_size Kamailio logged an ERROR per INVITE)
    assert centre.log_lines("lock set not initialized", since) == []  # type: ignore[arg-type]


def test_stopping_a_pbx_sends_new_calls_to_the_other_within_5_s(centre: Centre) -> None:
    """Checks of the failover: B stopped, how soon Kamailio marks it down, and how long a
    new citizen's call takes to be answered (by A) from the moment B was gone."""
    dead = centre.pbxs[1]
    dead_uri = f"sip:{dead.sip_address}:{dead.sip_port}"

    async def scenario() -> tuple[float, float | None, list[object]]:
        await asyncio.to_thread(centre.stop_pbx, 1)
        gone = time.monotonic()

        async def marked_down() -> float | None:  # polled from the stop on, every 0.1 s
            while time.monotonic() - gone < 10:
                flags = {
                    d.uri: d.up
                    for d in await asyncio.to_thread(kamailio_run.destinations, centre.kamailio)
                }
                if not flags.get(dead_uri, True):
                    return time.monotonic() - gone
                await asyncio.sleep(0.1)
            return None

        watch = asyncio.create_task(marked_down())
        runs = []
        for n in range(4):
            runs.append(
                asyncio.create_task(call(centre, "", centre.base / "failover", 1500, f"f{n}"))
            )
            await asyncio.sleep(1.0)
        detected = await watch
        return gone, detected, list(await asyncio.gather(*runs))

    since = centre.log_size()
    _, detected, runs = asyncio.run(scenario())
    setups = [setup_seconds(r) for r in runs]  # type: ignore[arg-type]
    answered = [answered_by(r) for r in runs]  # type: ignore[arg-type]
    failed_over = centre.log_lines("failed", since)
    FIGURES["failover"] = {
        "detected_down_s": detected,
        "call_setup_s": setups,
        "answered_by": answered,
        "kamailio_failovers": len(failed_over),
    }
    why = json.dumps(FIGURES["failover"]) + "\n" + "\n".join(centre.log_lines("hotline:", since))
    assert detected is not None, why
    assert detected < 5, why
    assert answered == [ADDRESSES[0]] * 4, why
    assert all(s is not None and s < 5 for s in setups), why
    # registration still works with one PBX down, and Kamailio still answers
    assert centre.register("1003", ("127.0.0.1", 9)).startswith("SIP/2.0 200")


def test_only_the_centres_agents_register_with_their_passwords(centre: Centre) -> None:
    """Kamailio's registrar takes an extension of center.yaml with the password hotline
    derives for it (digest), nothing else."""
    assert centre.register("1004", ("127.0.0.1", 9)).startswith("SIP/2.0 200")
    # her phone restarted on another port: the new contact replaces the old one
    assert centre.register("1004", ("127.0.0.1", 10)).startswith("SIP/2.0 200")
    shown = kamailio_run.rpc(centre.kamailio, "ul.lookup", "location", "s:1004")
    assert re.findall(r"Address: (\S+)", shown) == ["sip:1004@127.0.0.1:10"], shown
    wrong = centre.register("1004", ("127.0.0.1", 9), password="0" * 24)
    assert wrong.startswith("SIP/2.0 401"), wrong  # challenged again: the digest failed
    stranger = register(centre.proxy, "9999", ("127.0.0.1", 9), "0" * 24)
    assert stranger.startswith("SIP/2.0 403"), stranger
    # the contact of 1001 is still the agent's phone, not replaced by the failed attempts
    assert f"sip:1001@127.0.0.1:{centre.agents[0].port}" in kamailio_run.rpc(
        centre.kamailio, "ul.lookup", "location", "s:1001"
    )


GUESSER = "127.0.0.9"  # inside the agents' networks (the bed's HOTLINE_SIP_NETWORKS)
FLOODER = "127.0.0.41"  # outside the carriers too: they are never flood-guarded
STRANGER = "127.0.0.40"  # outside the agents' and the carriers' networks


def _send_from(source: str, message: str, proxy: tuple[str, int], timeout: float = 1.0) -> str:
    """One request from ``source``; Kamailio's first final reply ("" if none came)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(timeout)
        host, port = s.getsockname()
        s.sendto(message.format(host=host, port=port).encode(), proxy)
        try:
            while True:
                reply = s.recv(65535).decode(errors="replace")
                if not reply.startswith("SIP/2.0 1"):
                    return reply.split("\r\n", 1)[0]
        except TimeoutError:
            return ""


def _request(method: str, uri: str) -> str:
    return (
        f"{method} {uri} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP {host}:{port};rport;branch=z9hG4bK" + secrets.token_hex(6) + "\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:13812345678@{host}>;tag=" + secrets.token_hex(4) + "\r\n"
        f"To: <{uri}>\r\n"
        f"Call-ID: {secrets.token_hex(8)}@hotline-tests\r\n"
        f"CSeq: 1 {method}\r\n"
        "Contact: <sip:13812345678@{host}:{port}>\r\n"
        "Content-Length: 0\r\n\r\n"
    )


def test_strangers_guessers_and_floods_are_shut_out_and_the_centre_goes_on(
    centre: Centre,
) -> None:
    """The guards of kamailio.cfg on the wire: a REGISTER or a call from outside the named
    networks is refused; ten wrong digests from one address shut it out, even with the
    right password, while agents elsewhere register; a flood of requests from one
    address goes unanswered while it lasts, and the others are still served."""
    proxy = centre.proxy
    since = centre.log_size()
    stranger = centre.register("1003", ("127.0.0.1", 9), source=STRANGER)
    assert stranger == "SIP/2.0 403 Not from the agents' network", stranger
    call_in = _send_from(STRANGER, _request("INVITE", f"sip:12345@{proxy[0]}:{proxy[1]}"), proxy)
    assert call_in == "SIP/2.0 403 Not a carrier of this centre", call_in

    for _ in range(10):
        wrong = centre.register("1003", ("127.0.0.1", 9), password="0" * 24, source=GUESSER)
        assert wrong.startswith("SIP/2.0 401"), wrong
    right = centre.register("1003", ("127.0.0.1", 9), source=GUESSER)
    assert right == "SIP/2.0 403 Too many failed attempts", right
    assert centre.register("1003", ("127.0.0.1", 9)).startswith("SIP/2.0 200")  # elsewhere
    assert len(centre.log_lines(f"from {GUESSER}: wrong digest", since)) == 10

    options = _request("OPTIONS", f"sip:{proxy[0]}:{proxy[1]}")
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((FLOODER, 0))
        s.setblocking(False)
        host, port = s.getsockname()
        began = time.monotonic()
        for _ in range(400):  # 4 × the guard's 100 in 2 s
            s.sendto(options.format(host=host, port=port).encode(), proxy)
        sent_s = time.monotonic() - began
        time.sleep(1.0)
        with contextlib.suppress(BlockingIOError):
            while s.recv(65535):
                answered += 1
    late = _send_from(FLOODER, options, proxy)
    FIGURES["flood"] = {"sent": 400, "sent_in_s": round(sent_s, 3), "answered": answered}
    assert answered < 400, FIGURES["flood"]
    assert late == "", late  # still ignored: the flood has not calmed down yet
    assert _send_from("127.0.0.1", options, proxy) == "SIP/2.0 200 OK"  # others served
    assert centre.log_lines(f"flood from {FLOODER}", since)


def test_a_restarted_kamailio_still_reaches_the_registered_phones(centre: Centre) -> None:
    """Registrations are written at shutdown (db_text) and read back at start: after a
    restart the agent's phone is found without registering again."""
    contact = f"sip:1001@127.0.0.1:{centre.agents[0].port}"
    assert contact in kamailio_run.rpc(centre.kamailio, "ul.lookup", "location", "s:1001")
    kamailio_run.stop(centre.kamailio)
    location = centre.kamailio.kamailio_dir / "db" / "location"
    stored = location.read_text()
    assert contact.replace(":", "\\:") in stored, stored  # db_text escapes ':'

    kamailio_run.start(centre.kamailio)
    shown = kamailio_run.rpc(centre.kamailio, "ul.lookup", "location", "s:1001")
    assert contact in shown, shown
