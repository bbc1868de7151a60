"""The ``hotline`` command line: the top layer, where the operator reaches every part.

Where to look:

    main.py        the entry (``hotline = hotline.cli.main:main``): the table of command
                   groups, argument parsing, the one place failures are reported
    common.py      what commands share: CLIError (exit 1, or 2 for usage/configuration),
                   dates and times on the command line, the centre file, the history path,
                   JSON output
    live.py        the running system: Redis, the live snapshot, commands to the controller
    table.py       terminal tables that stay aligned with Chinese text
    progress.py    a progress bar on stderr for batches

One module per command group, each with ``add_parsers(sub)`` and its handlers: ``pbx``,
``redis``, ``run``, ``sim``, ``ami``, ``ivr`` (and ``prompts``), ``controller``, ``calls``,
``agents`` (``agents list|audit|report``, ``agent``; past data in ``agents_audit``),
``metrics`` (its parts ``metrics_load``, ``metrics_params``, ``metrics_chart``,
``metrics_import``), ``alerts`` (and ``notice``), ``transcripts``, ``access``,
``retention``, ``stt`` (``transcribe``, ``play``, ``stt``), ``web``, ``users``, ``audit``,
``redact``. A group imports the shared modules and its own parts, never another group
(tests/unit/test_cli_layout.py).
"""
