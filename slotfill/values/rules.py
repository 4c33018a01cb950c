"""The check of a `values:` section (config.py validates with it; it imports nothing of slotfill
but the choices, so that the config stays a lower layer than the resolvers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slotfill.choices import VALUE_RESOLVERS


def rule_error(rules: Mapping[str, str], lists: Sequence[str]) -> str | None:
    """What is wrong with the first bad rule (naming its pattern), or None: a resolver must be one
    of VALUE_RESOLVERS or `entry:LIST` with LIST one of the model's gazetteers."""
    for pattern, resolver in rules.items():
        name, _, target = resolver.partition(":")
        if name == "entry" and target:
            if target not in lists:
                known = ", ".join(lists) or "none"
                return f"{pattern}: {resolver!r} names no gazetteer of the config (it has: {known})"
        elif resolver not in VALUE_RESOLVERS:
            return f"{pattern}: {resolver!r} is not a resolver (one of: {', '.join(VALUE_RESOLVERS)}, entry:LIST)"
    return None
