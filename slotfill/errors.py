"""slotfill's own error types. Library code raises these; only the CLI prints them."""


class SlotfillError(Exception):
    """Base class: a problem the user can fix (bad data, config or model), not a bug."""


class DataError(SlotfillError):
    """Malformed or missing input data; the message names the file and line."""


class ConfigError(SlotfillError):
    """An invalid configuration; the message names the key."""


class ModelError(SlotfillError):
    """A model directory that is missing, damaged or incompatible."""


class OutputError(SlotfillError):
    """A run or output location that cannot be written: in use, not empty, not writable."""
