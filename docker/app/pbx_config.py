#!/usr/bin/env python3
"""``hotline-pbx-config``: render the PBX instance for the hotline/asterisk container.

Run once before Asterisk starts (docker/compose.yaml's ``pbx-config`` service, from the
hotline/app image, as root): the same steps as ``hotline pbx start`` up to the spawn.
Into ``HOTLINE_RUN_DIR/asterisk`` (the shared volume; /srv/hotline in the Asterisk
container) it writes the configuration rendered from the site's templates and centre file
(secrets generated once into ``HOTLINE_RUN_DIR/secrets`` unless set), installs the site's
flow with its prompts, and gives the ``asterisk`` user what Asterisk writes (its logs,
spool, astdb). Every start renders again, so an edited site takes effect on
``docker-compose up``.
"""

from __future__ import annotations

import sys

from hotline.host.settings import ConfigError, Settings
from hotline.ivr.loader import FlowError
from hotline.ivr.prompts import PromptError
from hotline.pbx import install, instance
from hotline.pbx.errors import PBXError


def main() -> int:
    try:
        settings = instance.resolve_secret(Settings.from_env())
        base = instance.prepare(settings)
        done = install.install(settings, settings.flow)
    except (ConfigError, PBXError, FlowError, PromptError) as exc:
        print(f"hotline-pbx-config: {exc}", file=sys.stderr)
        return 1
    print(f"rendered {base} for {settings.ami_user}@127.0.0.1:{settings.ami_port}; installed "
          f"the flow {settings.flow} ({len(done.prompts)} prompts)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
