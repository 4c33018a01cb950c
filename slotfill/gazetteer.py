"""The public names of slotfill.features.gazetteer, where they have always been imported from:
`from slotfill.gazetteer import GazetteerUpdate`."""

from slotfill.features.gazetteer import GazetteerSet, GazetteerUpdate

__all__ = ["GazetteerSet", "GazetteerUpdate"]
