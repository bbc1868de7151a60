"""Install a flow into the bundled PBX: rendered dialplan and queues, built prompts, reload.

``install`` only writes files (used before the PBX starts); ``apply`` also reloads the
dialplan and the queues over AMI. A reload does not drop calls: channels in the IVR keep
their place and continue with the new dialplan at their next step; dynamic queue members
and waiting callers stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hotline.host.settings import Settings
from hotline.ivr.asterisk import render_extensions, render_queues
from hotline.ivr.loader import load_flow
from hotline.ivr.model import Flow
from hotline.ivr.prompts import prompts_from_table
from hotline.pbx import instance, runner
from hotline.pbx.errors import PBXError
from hotline.pbx.voice import BuiltPrompt, build_prompts

EXTENSIONS = "extensions-hotline.conf"
QUEUES = "queues-hotline.conf"


@dataclass(frozen=True, slots=True)
class Installed:
    flow: Flow
    files: tuple[Path, ...]
    prompts: tuple[BuiltPrompt, ...]


def read_flow(path: Path) -> tuple[Flow, str]:
    """Load and validate a flow file; FlowError names every bad node."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PBXError(f"cannot read the flow {path}: {exc.strerror}") from None
    return load_flow(text, str(path)), text


def render_files(flow: Flow, text: str) -> dict[str, str]:
    return {EXTENSIONS: render_extensions(flow, text), QUEUES: render_queues(flow)}


def write_files(files: dict[str, str], out_dir: Path) -> tuple[Path, ...]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        target = out_dir / name
        tmp = target.with_name(f".{name}.tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(target)
        written.append(target)
    return tuple(written)


def build_flow_prompts(settings: Settings, flow: Flow, flow_path: Path) -> list[BuiltPrompt]:
    """Prompts into the PBX instance (seen as /srv/hotline/prompts by Asterisk).

    A recorded human prompt at ``<flow dir>/prompts/<lang>/<name>.wav`` replaces the
    synthetic one.
    """
    table = {
        name: {lang: text for lang, text in texts.items() if lang in flow.languages}
        for name, texts in flow.prompts.items()
    }
    return build_prompts(
        prompts_from_table(table),
        out_dir=settings.pbx_dir / "prompts",
        cache_dir=settings.run_dir / "cache" / "prompts",
        recorded_dir=flow_path.parent / "prompts",
    )


def install(settings: Settings, flow_path: Path) -> Installed:
    """Render the flow into the instance's etc/ and build its prompts (no reload)."""
    flow, text = read_flow(flow_path)
    prompts = build_flow_prompts(settings, flow, flow_path)
    files = write_files(render_files(flow, text), settings.pbx_dir / "etc")
    instance.share_with_pbx(settings, *files, settings.pbx_dir / "prompts")
    return Installed(flow, files, tuple(prompts))


def is_installed(settings: Settings) -> bool:
    """Whether a flow was rendered into the bundled PBX's instance."""
    return (settings.pbx_dir / "etc" / EXTENSIONS).is_file()


def apply(settings: Settings, flow_path: Path) -> Installed:
    """Install the flow into the running bundled PBX and reload dialplan and queues."""
    if settings.pbx != "bundled":
        raise PBXError(
            "HOTLINE_PBX=external: render with `hotline ivr render FLOW --out DIR`, copy the "
            "files into that Asterisk's configuration, then `dialplan reload` and "
            "`queue reload all`"
        )
    if runner.status(settings).state is not runner.PBXState.RUNNING:
        raise PBXError("the PBX is not running: `hotline pbx start` first")
    installed = install(settings, flow_path)
    try:
        # dialplan first: new queue contexts must exist before queues point callers there
        runner.reload_modules(settings, ["pbx_config", "app_queue"])
    except PBXError as exc:
        raise PBXError(f"the flow is installed but the reload failed: {exc}") from exc
    return installed
