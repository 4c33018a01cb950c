"""Emissions and intent scores in, ids out: the decoding both runtimes share (numpy, no torch)."""
