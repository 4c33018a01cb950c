"""Annotated data in and out: the readers of every format, span formats, writers, validation, statistics and verified downloads."""
