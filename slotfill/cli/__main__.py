"""`python -m slotfill.cli.app`: the same as the `slotfill` command."""

from slotfill.cli.app import run

run()
