"""Other hosts on one machine: a network namespace joined to this one by a veth pair.

A carrier, a desk phone or a remote worker lives in a namespace the test creates, with a
/30 of 10.78.0.0/16 that nothing on the machine uses (checked before it is taken). Traffic
goes only between this host's end of the pair and the namespace. Everything is removed
on leaving the block, also after a failure: the processes still running in the
namespace (the test's own), the namespace and the pair.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    host_ip: str
    """This host's end of the pair (what the PBX binds toward the other host)."""
    peer_ip: str
    """The other host's address, inside the namespace."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def _used_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network this host has an address or a route in."""
    out = []
    for line in (
        _ip("-4", "-o", "addr").stdout.splitlines() + _ip("-4", "route").stdout.splitlines()
    ):
        for word in line.split():
            with contextlib.suppress(ValueError):
                if "/" in word or word[0].isdigit():
                    out.append(ipaddress.IPv4Network(word, strict=False))
    return out


def free_subnet(base: str = "10.78.0.0/16") -> ipaddress.IPv4Network:
    used = _used_networks()
    subnets = list(ipaddress.IPv4Network(base).subnets(new_prefix=30))
    start = (os.getpid() * 7) % len(subnets)  # parallel runs start at different places
    for k in range(len(subnets)):
        net = subnets[(start + k) % len(subnets)]
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return net
    raise AssertionError(f"no free /30 in {base}")


@contextlib.contextmanager
def namespace(tag: str) -> Iterator[Namespace]:
    """A namespace ``hl<tag><pid>`` with a veth pair to this host (root only)."""
    if os.geteuid() != 0:
        pytest.fail("network namespaces need root (ip netns add)")
    suffix = f"{tag}{os.getpid() % 100000}"[:10]
    name, host_if, peer_if = f"hl{suffix}", f"hl{suffix}h", f"hl{suffix}p"
    net = free_subnet()
    host_ip, peer_ip = (str(a) for a in list(net.hosts())[:2])
    try:
        _ip("netns", "add", name)
        _ip("link", "add", host_if, "type", "veth", "peer", "name", peer_if)
        _ip("link", "set", peer_if, "netns", name)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("-n", name, "addr", "add", f"{peer_ip}/30", "dev", peer_if)
        _ip("-n", name, "link", "set", peer_if, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        yield Namespace(name, host_ip, peer_ip)
    finally:
        pids = _ip("netns", "pids", name, check=False).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        _ip("netns", "del", name, check=False)
        _ip("link", "del", host_if, check=False)  # gone with the namespace, normally
