"""A command that needs the IVR flow says what is missing and the command that fixes it."""

from __future__ import annotations

from hotline.host.settings import Settings
from hotline.pbx import install
from hotline.pbx import runner as pbx
from tests.conftest import hotline


def test_sim_on_a_pbx_without_a_flow_names_the_fix(other_env: dict[str, str]) -> None:
    settings = Settings.from_env(other_env)
    pbx.start(settings)  # started without a flow (not through `hotline pbx start`)
    assert not install.is_installed(settings)

    sim = hotline(other_env, "sim", "--calls", "1", "--rate", "600", "--agents", "1")
    assert sim.returncode == 1
    assert "Reason 0" not in sim.stderr
    assert "no IVR flow is installed" in sim.stderr, sim.stderr
    assert "12345@hotline-ivr" in sim.stderr
    assert "`hotline ivr apply`" in sim.stderr

    applied = hotline(other_env, "ivr", "apply")  # what it says to run
    assert applied.returncode == 0, applied.stderr
    sim = hotline(other_env, "sim", "--calls", "1", "--rate", "600", "--agents", "1")
    assert sim.returncode == 0, sim.stderr
    assert "placed 1 calls (0 failed)" in sim.stdout

    # a reload of a PBX that lost its flow gives it the configured one again
    (settings.pbx_dir / "etc" / install.EXTENSIONS).unlink()
    reloaded = hotline(other_env, "pbx", "reload")
    assert reloaded.returncode == 0, reloaded.stderr
    assert f"installed the flow {settings.flow}" in reloaded.stdout
    assert install.is_installed(settings)
