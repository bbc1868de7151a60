"""``hotline web``: serve the web app (wallboard, agent page, auditor) with uvicorn until
Ctrl-C; ``hotline users`` (:mod:`hotline.cli.users`) manages its accounts."""

from __future__ import annotations

import argparse
from typing import Any

from hotline.host.settings import Settings

__all__ = ["add_parsers", "run_web"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("web", help="serve the web app (wallboard, agent page, auditor)")
    p.set_defaults(handler=run_web)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8345, help="port (8345)")


def run_web(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from hotline.web.app import create_app, open_services

    app = create_app(open_services(settings))
    print(f"web: http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=2,  # SSE streams never end by themselves
    )
    return 0
