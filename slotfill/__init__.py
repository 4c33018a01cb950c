"""slotfill: slot filling for dialogue utterances with a BiLSTM tagger."""

__version__ = "0.5.0"
