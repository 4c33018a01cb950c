"""The batch span reader against the one-sentence reference (bio.spans over bio.fill_skipped), on
random tag sequences: valid BIO or not, any lengths, punctuation anywhere."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slotfill.decoding.spans import TagTable, batch_spans
from slotfill.decoding.tagging import _full_positions
from slotfill.text import bio

TAGS = ["O", "B-x", "I-x", "B-y", "I-y", "B-z"]  # B-z has no I-z
sentences = st.lists(st.lists(st.integers(0, len(TAGS) - 1), min_size=1, max_size=9), min_size=1, max_size=6)


@settings(max_examples=300)
@given(sentences, st.data())
def test_batch_spans_are_bio_spans_of_each_sentence(rows: list[list[int]], data: st.DataObject) -> None:
    longest = max(map(len, rows))
    padding = data.draw(st.integers(0, len(TAGS) - 1))  # past a length the path holds anything
    paths = np.array([row + [padding] * (longest - len(row)) for row in rows])
    spans = batch_spans(TagTable.for_tags(TAGS), paths, np.array([len(row) for row in rows]))
    bounds = spans.bounds(len(rows)).tolist()
    table = TagTable.for_tags(TAGS)
    for r, row in enumerate(rows):
        names = [TAGS[t] for t in row]
        own = slice(bounds[r], bounds[r + 1])
        found = [
            bio.Span(table.labels[label], start, end)
            for label, start, end in zip(
                spans.labels[own].tolist(), spans.starts[own].tolist(), spans.ends[own].tolist()
            )
        ]
        assert found == bio.spans(names)
        # with punctuation between the shown tokens, the full-sentence spans are fill_skipped's
        gaps = data.draw(st.lists(st.integers(0, 2), min_size=len(row) + 1, max_size=len(row) + 1))
        shown, position = [], gaps[0]
        for gap in gaps[1:]:
            shown.append(position)
            position += 1 + gap
        full = [
            bio.Span(span.label, *_full_positions(span.start, span.end, inside, shown))
            for span, inside in zip(found, spans.begins_inside[own].tolist())
        ]
        assert full == bio.spans(bio.fill_skipped(names, shown, position))
