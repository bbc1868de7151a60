"""The stylesheet, script and font names the pages load: a fixed set read once at import.

``/static/{name}`` looks the name up in :data:`FILES`; no part of a request ever
becomes a file path, so ``../`` has nothing to climb.
"""

from __future__ import annotations

from importlib import resources

from starlette.responses import PlainTextResponse, Response

from hotline.web.context import Ctx

TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _load() -> dict[str, tuple[bytes, str]]:
    files = {}
    for entry in resources.files("hotline.web").joinpath("static").iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in TYPES:
            files[entry.name] = (entry.read_bytes(), TYPES[suffix])
    return files


FILES = _load()


async def serve(ctx: Ctx) -> Response:
    name = ctx.request.path_params.get("name", "")
    found = FILES.get(name)
    if found is None:
        return PlainTextResponse("not found", 404)
    body, media_type = found
    response = Response(body, media_type=media_type)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
