"""A worker on another host: each leg fetched from the centre's web app, each result
handed back to it, over HTTP with the workers' token (``HOTLINE_STT_SOURCE=http``).

    centre = Centre("https://centre:8080", token, worker="gpu-3-1234")
    legs, results = HttpLegs(centre), HttpResults(centre)

The wire (served by :mod:`hotline.web.workers_api`):

- ``GET /stt/legs/{call_id}/{leg}`` → the leg's bytes, ``Content-Length`` and
  ``X-Hotline-Sha256`` (the catalogue's); 404 with ``X-Hotline-Reason`` (``not_catalogued``,
  ``missing``) when there is no such leg.
- ``POST /stt/transcripts`` (a :mod:`hotline.transcripts.wire` document) and
  ``POST /stt/alerts`` (an integrity mismatch), JSON.

Every request carries ``Authorization: Bearer <token>`` and ``X-Hotline-Worker``.

The leg is streamed to a file of the worker's own (a temporary directory, removed with the
job), hashed as it arrives, and used only when its SHA-256 is the job's (the catalogue's
when the call ended) and the centre's. What can go wrong, and what becomes of the job:

- the centre unreachable, a 5xx, 401 (no token) or 403 (a wrong one): :class:`CentreUnavailable`:
  the job goes back to the stream untouched and the worker waits (it is no fault of the
  job's: nothing is counted against it);
- the body cut short of ``Content-Length`` (``truncated``) or the connection dropped or
  silent mid-body (``dropped``): a transient failure, retried as a new entry;
- the bytes not hashing to the catalogue's SHA-256 (``integrity``): an alert at the centre,
  and a transient failure too (a bad transfer looks the same as an altered file; after
  :data:`~hotline.stt.jobs.MAX_ATTEMPTS` it is dead-lettered with that reason), never
  transcribed;
- 404: the leg is not catalogued or its file is gone (permanent, as on one box).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.recordings.errors import RecordingError
from hotline.recordings.integrity import Mismatch, MismatchError
from hotline.recordings.leg import Recording
from hotline.stt.jobs import Job
from hotline.stt.legs import CentreUnavailable
from hotline.transcripts.transcript import Transcript
from hotline.transcripts.wire import to_doc

CHUNK = 64 * 1024
SHA_HEADER = "X-Hotline-Sha256"
REASON_HEADER = "X-Hotline-Reason"
WORKER_HEADER = "X-Hotline-Worker"


class FetchedMismatchError(MismatchError):
    """The fetched bytes are not the catalogued ones: altered at the centre, or in transit
    (retried, unlike a local mismatch, which can only be the file itself)."""


class FetchError(RecordingError):
    """A leg could not be fetched whole (``truncated``, ``dropped``): try again later."""

    reason = "fetch"


@dataclass(frozen=True)
class Centre:
    """The centre's web app as this worker reaches it."""

    url: str
    token: str
    worker: str
    timeout: float = 30.0  # s without a byte before the transfer counts as dropped

    def request(self, method: str, path: str, body: bytes | None = None) -> Any:
        """The open response (the caller reads and closes it); CentreUnavailable when the
        centre cannot be reached or refuses this worker, RecordingError for a 404."""
        headers = {"Authorization": f"Bearer {self.token}", WORKER_HEADER: self.worker}
        if body is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, body, headers, method=method)
        where = f"{method} {self.url}{path.split('?')[0]}"
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            text = " ".join(exc.read(500).decode("utf-8", "replace").split())[:300]
            exc.close()
            if exc.code == 404:
                reason = exc.headers.get(REASON_HEADER) or "not_catalogued"
                raise RecordingError(f"{where}: {text}", reason) from None
            if exc.code in (401, 403):
                raise CentreUnavailable(
                    f"{where}: {exc.code} {text} (check HOTLINE_STT_TOKEN on both sides)"
                ) from None
            if exc.code >= 500:
                raise CentreUnavailable(f"{where}: {exc.code} {text}") from None
            raise RecordingError(f"{where}: {exc.code} {text}", "refused") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            why = getattr(exc, "reason", exc)
            raise CentreUnavailable(f"{where}: cannot reach the centre: {why}") from None

    def post(self, path: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        body = json.dumps(doc, ensure_ascii=False).encode()
        try:
            with self.request("POST", path, body) as response:
                answer: dict[str, Any] = json.loads(response.read() or b"{}")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise CentreUnavailable(f"POST {self.url}{path}: no answer: {exc}") from None
        return answer


def download(response: Any, dest: Path) -> tuple[int, str]:
    """Stream RESPONSE's body into DEST: (bytes, SHA-256); FetchError when it ends before
    its Content-Length or the connection drops."""
    length = response.headers.get("Content-Length")
    if length is None or not length.isdigit():
        raise FetchError("the centre sent the leg without a Content-Length", "truncated")
    expected = int(length)
    h, got = hashlib.sha256(), 0
    try:
        with dest.open("wb") as f:
            while block := response.read1(CHUNK):
                h.update(block)
                f.write(block)
                got += len(block)
    except http.client.IncompleteRead as exc:
        got += len(exc.partial)
        raise FetchError(f"the leg was cut short: {got} of {expected} bytes", "truncated") from None
    except (TimeoutError, ConnectionError) as exc:
        raise FetchError(f"the connection dropped after {got} of {expected} bytes: {exc}",
                         "dropped") from None  # fmt: skip
    except OSError as exc:
        raise FetchError(f"the leg could not be read or stored: {exc}", "dropped") from None
    if got != expected:
        raise FetchError(f"the leg was cut short: {got} of {expected} bytes", "truncated")
    return got, h.hexdigest()


@dataclass
class HttpLegs:
    """Legs fetched from the centre into a temporary directory of this worker's."""

    centre: Centre
    tmp: Path | None = None  # default: the system's temporary directory

    @contextlib.contextmanager
    def leg(self, job: Job) -> Iterator[Recording]:
        where = Path(tempfile.mkdtemp(prefix="hotline-leg-", dir=self.tmp))
        try:
            path = where / f"{job.leg.value}.wav"
            quoted = urllib.parse.quote(job.call_id, safe="")
            with self.centre.request("GET", f"/stt/legs/{quoted}/{job.leg.value}") as response:
                catalogued = (response.headers.get(SHA_HEADER) or "").lower()
                size, actual = download(response, path)
            for expected, whose in ((job.sha256, "the job's"), (catalogued, "the centre's")):
                if actual != expected:
                    m = Mismatch(job.call_id, job.leg, job.path, expected, actual, "integrity")
                    raise FetchedMismatchError(
                        f"{job.call_id}/{job.leg.value} from {self.centre.url}: SHA-256 "
                        f"{actual[:16]}... differs from {whose} {expected[:16]}...: "
                        "altered at the centre or in transit, not transcribed",
                        m,
                    )
            yield Recording(job.call_id, job.leg, str(path), size, job.duration_ms, actual)
        finally:
            shutil.rmtree(where, ignore_errors=True)

    def close(self) -> None:
        return None


@dataclass
class HttpResults:
    """Results handed to the centre, which stores them (and runs the QA flags)."""

    centre: Centre

    def save(self, transcript: Transcript) -> None:
        self.centre.post("/stt/transcripts", to_doc(transcript))

    def alert(self, mismatch: Mismatch, *, by: str, at: int) -> None:
        m = mismatch
        self.centre.post("/stt/alerts", {
            "call_id": m.call_id, "leg": m.leg.value, "expected": m.expected,
            "actual": m.actual, "reason": m.reason, "at": at,
        })  # fmt: skip

    def flag(self, call_id: str) -> None:
        return None  # the centre flags the call when it stores its last leg

    def close(self) -> None:
        return None
