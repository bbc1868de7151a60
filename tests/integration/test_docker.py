"""A whole centre from docker/: the images `make docker` builds, run by docker/compose.yaml.

A private dockerd (its data, exec root, pid file and socket under this module's tmp dir;
``--iptables=false --bridge=none``: every container uses the host's network, every address
is loopback) builds the images once for the module (docker/build: the rootfs tarballs and
the wheelhouse are cached; the daemon's data root too, in HOTLINE_CACHE, so docker's
layer cache serves a rebuild of the same inputs), then the stack runs a site written by
``hotline init`` in the hotline/app image, on free ports:

- a SIPp caller presses through the IVR into a queue whose member is a simulated agent
  (a Local channel that answers), the controller records the call (``hotline calls list``
  in the controller container), /healthz answers and /metrics counts it;
- ``down`` and ``up`` again: the database, the recordings and queue_log are where they were;
- ``down -v``, the daemon stopped: no container, process, mount, cgroup, link or iptables
  rule is left of it.

Docker missing fails the test (scripts/setup installs docker.io and docker-compose).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest

from hotline.ami.client import AMIClient, ClientOptions, Endpoint
from hotline.ami.errors import AMIError
from hotline.host.settings import Settings
from tests.conftest import free_port
from tests.integration import bed, sip

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker" / "compose.yaml"
DOCKERD, DOCKER, COMPOSE = "/usr/sbin/dockerd", "/usr/bin/docker", "/usr/bin/docker-compose"
BUILD_TIMEOUT = 1500.0  # a first build with nothing cached: the rootfs, the base, the wheels

pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 600)


def run(argv: list[str], env: dict[str, str], *, timeout: float = 300, check: bool = True,
        input: str | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, check=False, input=input
    )
    if check:
        assert done.returncode == 0, (
            f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


def host_state() -> dict[str, set[str]]:
    """What a docker daemon could change on the host: firewall rules and links."""
    out = {}
    for name, argv in {
        "iptables": ["iptables", "-S"],
        "iptables-nat": ["iptables", "-t", "nat", "-S"],
        "ip6tables": ["ip6tables", "-S"],
        "links": ["ip", "-o", "link", "show"],
    }.items():
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{argv}: {done.stderr}"
        out[name] = set(done.stdout.splitlines())
    # a link's line carries counters that change: keep its name
    out["links"] = {line.split(":")[1].strip() for line in out["links"]}
    return out


def docker_changes(before: dict[str, set[str]], after: dict[str, set[str]]) -> list[str]:
    """What changed between two host states that a docker daemon makes: a policy (FORWARD
    DROP), a DOCKER chain or rule, a docker0/br-*/veth link. Other changes are not counted:
    other tests on the machine make network namespaces and veth pairs of their own."""

    def docker_made(name: str, line: str) -> bool:
        if name == "links":
            return line.startswith(("docker", "br-", "veth"))
        return line.startswith("-P ") or "docker" in line.lower()

    return [
        f"{name}: {'+' if line in after[name] else '-'} {line}"
        for name, lines in before.items()
        for line in sorted(lines ^ after[name])
        if docker_made(name, line)
    ]


def mounts_under(path: Path) -> list[str]:
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    return [line.split()[4] for line in lines if line.split()[4].startswith(str(path))]


@dataclass
class Daemon:
    """A dockerd of the test's own: nothing outside ``root`` is its."""

    root: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    before: dict[str, set[str]] = field(default_factory=dict)
    data: Path | None = None
    """Its data root: the images. Kept across runs in the cache (:func:`kept_data`) while
    no other run holds it, so a rebuild reuses docker's layers; else private, removed."""
    _lock: int | None = None

    @property
    def cgroup_parent(self) -> str:
        return f"hotline-test-{os.getpid()}"

    def start(self) -> None:
        if os.geteuid() != 0:
            pytest.fail("the compose stack's test starts a dockerd of its own: run it as root")
        for tool in (DOCKERD, DOCKER, COMPOSE, "/usr/sbin/iptables"):
            if not Path(tool).exists():
                pytest.fail(f"{tool} is missing: run scripts/setup (apt: docker.io docker-compose)")
        self.before = host_state()
        self.data, self._lock = kept_data()
        if self.data is None:
            self.data = self.root / "data"
        config = self.root / "daemon.json"
        # dockerd 20.10 writes its trust key to /etc/docker/key.json unless told otherwise
        config.write_text(json.dumps({"deprecated-key-path": str(self.root / "key.json")}))
        argv = [
            DOCKERD, "--config-file", str(config),
            "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--bridge=none",
            "--data-root", str(self.data), "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "docker.pid"), "--host", self.env["DOCKER_HOST"],
            "--cgroup-parent", self.cgroup_parent,
        ]  # fmt: skip
        with (self.root / "dockerd.log").open("wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while run([DOCKER, "version"], self.env, check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log_tail = (self.root / "dockerd.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"dockerd did not start:\n{log_tail}")
            time.sleep(0.3)

    def stop(self) -> list[str]:
        """Stop the daemon and undo what it left; return what it left (should be nothing)."""
        left: list[str] = []
        if self.proc is None:
            return left
        if self.proc.poll() is None:
            containers = run([DOCKER, "ps", "-aq"], self.env, check=False).stdout.split()
            if containers:
                left.append(f"containers: {containers}")
                run([DOCKER, "rm", "-f", *containers], self.env, check=False)
            if self._lock is not None:  # the kept data root: no dangling image piles up
                run([DOCKER, "image", "prune", "-f"], self.env, check=False)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                left.append("dockerd did not stop on SIGTERM")
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None
        time.sleep(0.5)  # containerd's shims exit after the daemon
        stopped = time.monotonic()
        for path in (self.root / "docker.pid", self.root / "docker.sock"):
            if path.exists():
                left.append(f"{path} remains")
        # dockerd binds the host's network namespace at EXEC_ROOT/netns/default and leaves
        # it when it exits: ours to undo; any other mount is a leftover
        residue = str(self.root / "exec" / "netns" / "default")
        points = mounts_under(self.root) + (
            mounts_under(self.data) if self._lock is not None else []
        )
        for point in sorted(points, reverse=True):
            if point != residue:
                left.append(f"mount {point}")
            subprocess.run(["umount", point], check=False)
        for top in Path("/sys/fs/cgroup").iterdir():
            cgroup = top / self.cgroup_parent
            if cgroup.is_dir():  # the (empty) parent dockerd made: not a leftover container
                for sub in sorted(cgroup.rglob("*"), reverse=True):
                    if sub.is_dir():
                        left.append(f"cgroup {sub}")
                        with contextlib.suppress(OSError):
                            sub.rmdir()
                with contextlib.suppress(OSError):
                    cgroup.rmdir()
        left += docker_changes(self.before, host_state())
        if Path("/etc/docker/key.json").exists():
            left.append("/etc/docker/key.json")
        if self._lock is None:  # a private data root: images are GBs, not for pytest's tmp
            shutil.rmtree(self.root / "data", ignore_errors=True)
            print(f"dockerd's data removed in {time.monotonic() - stopped:.0f} s")
        else:  # the cache's: its images stay for the next run
            os.close(self._lock)
            self._lock = None
        return left


def kept_data() -> tuple[Path | None, int | None]:
    """The data root kept in hotline's cache (where docker/build keeps its tarballs) and
    its lock, or (None, None) while another run holds it (two daemons must never share
    one)."""
    cache = Path(os.environ.get("HOTLINE_CACHE") or "/var/cache/hotline")
    data = cache / "docker" / "test-daemon"
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(cache / "docker" / "test-daemon.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None, None
    return data, fd


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """The private dockerd with hotline's images built (docker/build, as `make docker`)."""
    root = tmp_path_factory.mktemp("docker")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "COMPOSE_"))}
    env |= {"DOCKER_HOST": f"unix://{root / 'docker.sock'}", "DOCKER": DOCKER,
            "PYTHON": sys.executable, "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
    if "HOTLINE_CACHE" in os.environ:
        env["HOTLINE_CACHE"] = os.environ["HOTLINE_CACHE"]
    d = Daemon(root, env)
    try:
        d.start()
        start = time.monotonic()
        run([str(ROOT / "docker" / "build")], env, timeout=BUILD_TIMEOUT)
        print(f"docker/build: {time.monotonic() - start:.0f} s")
        yield d
    finally:
        d.stop()


@dataclass
class Stack:
    """One compose project of docker/compose.yaml for a site on free loopback ports."""

    daemon: Daemon
    site: Path
    project: str
    settings: Settings
    web_port: int
    metrics_token: str

    def compose(self, *args: str, timeout: float = 300, check: bool = True,
                input: str | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
        argv = [COMPOSE, "-p", self.project, "-f", str(COMPOSE_FILE),
                "--env-file", str(self.site / "hotline.env"), *args]  # fmt: skip
        return run(argv, self.daemon.env, timeout=timeout, check=check, input=input)

    def hotline(self, *args: str, input: str | None = None) -> str:
        """``hotline ARGS`` in the controller's container (the shared volumes)."""
        return self.compose("exec", "-T", "controller", "hotline", *args, input=input).stdout

    def volume(self, name: str, *script: str) -> str:
        """Run a shell SCRIPT over a named volume of the project (mounted at /v)."""
        volume = f"{self.project}_{name}:/v:ro"
        argv = [DOCKER, "run", "--rm", "--network", "none", "-v", volume, "hotline/app",
                "sh", "-c", *script]  # fmt: skip
        return run(argv, self.daemon.env).stdout


@pytest.fixture(scope="module")
def stack(daemon: Daemon, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    site = tmp_path_factory.mktemp("site")
    # the README's way: init in the image, with the site at the same path inside and out
    run([DOCKER, "run", "--rm", "--network", "none", "-v", f"{site}:{site}", "hotline/app",
         "hotline", "init", str(site)], daemon.env)  # fmt: skip
    rtp = sip.free_udp_ports(100)
    ports = {
        "HOTLINE_SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "HOTLINE_AMI_PORT": str(free_port()),
        "HOTLINE_RTP_PORTS": f"{rtp}-{rtp + 99}",
        "HOTLINE_WEB_PORT": str(free_port()),
        "HOTLINE_AMI_SECRET": "docker-" + os.urandom(8).hex(),
        "HOTLINE_METRICS_TOKEN": "metrics-" + os.urandom(8).hex(),
    }
    with (site / "hotline.env").open("a") as env_file:
        env_file.writelines(f"{k}={v}\n" for k, v in ports.items())
    # the SIPp callers' endpoints: a site's own PJSIP file, rendered with the templates
    (site / "dialplan" / sip.CONF_NAME).write_text(sip.endpoints_conf())
    settings = Settings.from_env({**ports, "HOTLINE_PBX": "external"})
    s = Stack(daemon, site, f"hltest{os.getpid()}", settings, int(ports["HOTLINE_WEB_PORT"]),
              ports["HOTLINE_METRICS_TOKEN"])  # fmt: skip
    try:
        yield s
    finally:
        s.compose("down", "-v", "--remove-orphans", check=False)


def up(stack: Stack) -> None:
    stack.compose("up", "-d")
    asyncio.run(ready(stack))


async def ready(stack: Stack, timeout: float = 120) -> None:
    """AMI answers (Asterisk fully booted) and /healthz says ok."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            async with ami(stack.settings):
                pass
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.web_port}") as web:
                reply = await web.get("/healthz")
            if reply.status_code == 200 and reply.text.startswith("ok"):
                return
            last = f"/healthz {reply.status_code}: {reply.text}"
        except (AMIError, OSError, httpx.TransportError, TimeoutError) as exc:
            last = repr(exc)
        await asyncio.sleep(1)
    logs = stack.compose("logs", "--tail", "30", check=False).stdout
    raise AssertionError(f"the stack is not ready after {timeout:.0f} s ({last}):\n{logs}")


@contextlib.asynccontextmanager
async def ami(settings: Settings) -> AsyncIterator[AMIClient]:
    assert settings.ami_secret is not None
    endpoint = Endpoint("127.0.0.1", settings.ami_port, settings.ami_user, settings.ami_secret)
    client = AMIClient(endpoint, ClientOptions(connect_timeout=3, boot_timeout=10))
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


async def queue_call(stack: Stack, workdir: Path) -> sip.SippRun:
    """A SIPp citizen presses 1-2-2 (普通话, 投诉举报, 欠薪) into the queue ``labour``, where a
    simulated agent answers and talks 2 s."""
    async with ami(stack.settings) as client:
        await bed.add_members(client, ["labour"], paused=False)
        scenario = sip.write_scenario(sip.RFC4733, "122", workdir, sip.Timing(hold=8000))
        return await sip.run_sipp(scenario, stack.settings)


def ended_calls(stack: Stack, count: int, timeout: float = 60) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    calls: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        calls = json.loads(stack.hotline("calls", "list", "--format", "json"))
        ended = [c for c in calls if c.get("end_reason")]
        if len(ended) >= count:
            return ended
        time.sleep(1)
    raise AssertionError(f"{count} ended calls expected in `hotline calls list`, got {calls}")


def metrics(stack: Stack) -> str:
    auth = {"authorization": f"Bearer {stack.metrics_token}"}
    reply = httpx.get(f"http://127.0.0.1:{stack.web_port}/metrics", headers=auth)
    assert reply.status_code == 200, reply.text
    return str(reply.text)


def kept(stack: Stack) -> dict[str, str]:
    """What must survive down/up besides the database: the recordings and queue_log."""
    return {
        "recordings": stack.volume(
            "recordings", "cd /v && find . -type f | sort | xargs sha256sum"
        ),
        "queue_log": stack.volume("logs", "cat /v/queue_log"),
    }


def test_a_centre_in_compose_takes_a_call_and_keeps_its_data(stack: Stack, tmp_path: Path) -> None:
    up(stack)
    states = stack.compose("ps").stdout
    for service in ("asterisk", "controller", "web", "stt", "redis"):
        assert f"{stack.project}_{service}_1" in states, states

    run_ = asyncio.run(queue_call(stack, tmp_path / "sipp"))
    assert run_.returncode == 0, run_.report()
    (call,) = ended_calls(stack, 1)
    assert call["end_reason"] == "answered", call
    assert call["queue"] == "labour", call
    assert call["agent"], call
    text = metrics(stack)
    assert 'hotline_requests_today{queue="labour"} 1' in text, text
    assert "hotline_controller_up 1" in text, text
    assert "hotline_ami_connected 1" in text, text

    # the recorded legs are on the recordings volume, catalogued and read by the STT worker
    before = kept(stack)
    assert "-rx.wav" in before["recordings"], before
    assert "-tx.wav" in before["recordings"], before

    stack.compose("down")
    volumes = run([DOCKER, "volume", "ls", "-q"], stack.daemon.env).stdout.split()
    for name in ("data", "logs", "recordings", "redis"):
        assert f"{stack.project}_{name}" in volumes, volumes
    assert run([DOCKER, "ps", "-aq"], stack.daemon.env).stdout.split() == []
    up(stack)
    after = kept(stack)
    assert after["recordings"] == before["recordings"]
    assert after["queue_log"].startswith(before["queue_log"]), after  # Asterisk appends
    (again,) = ended_calls(stack, 1)
    assert again["call_id"] == call["call_id"], (again, call)

    stack.compose("down", "-v")
    assert run([DOCKER, "ps", "-aq"], stack.daemon.env).stdout.split() == []
    assert run([DOCKER, "volume", "ls", "-q"], stack.daemon.env).stdout.split() == []


def test_the_daemon_leaves_nothing_behind(daemon: Daemon) -> None:
    root = daemon.root
    left = daemon.stop()
    assert left == [], "\n".join(left)
    assert mounts_under(root) == []
