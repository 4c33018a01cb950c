"""Slot text -> values without torch: dates, times, numbers, quantities, places, and the frames
that read the slots that belong together (docs/values.md)."""
