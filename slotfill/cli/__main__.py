"""`python -m slotfill.cli.app`: the same as the `slotfill` command."""

from slotfill.cli.app.app import run

run()
