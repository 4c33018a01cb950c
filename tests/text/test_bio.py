from hypothesis import given
from hypothesis import strategies as st

from slotfill.text import bio
from slotfill.text.bio import Span


def test_spans_follow_conlleval() -> None:
    tags = ["O", "B-to", "I-to", "B-date", "I-time", "O", "I-to"]
    assert bio.spans(tags) == [Span("to", 1, 3), Span("date", 3, 4), Span("time", 4, 5), Span("to", 6, 7)]


def test_repair_turns_orphan_inside_tags_into_begin_tags() -> None:
    fixed, changed = bio.repair(["I-a", "I-a", "O", "I-b", "B-a", "I-b"])
    assert fixed == ["B-a", "I-a", "O", "B-b", "B-a", "B-b"] and changed == 3


def test_allowed_transitions() -> None:
    tags = ["O", "B-a", "I-a", "B-b", "I-b"]
    start, follow = bio.allowed_transitions(tags)
    assert start == [True, True, False, True, False]
    assert follow[0] == [True, True, False, True, False]  # O -> I-x forbidden
    assert follow[1] == [True, True, True, True, False]  # B-a -> I-a only
    assert follow[4] == [True, True, False, True, True]  # I-b -> I-b, not I-a


def test_non_bio_tags_are_rejected() -> None:
    assert not bio.is_bio_tag("X-a") and not bio.is_bio_tag("B-") and bio.is_bio_tag("I-a.b")


labels = st.sampled_from(["a", "b", "c.d"])
tag_lists = st.lists(
    st.one_of(st.just("O"), st.builds(lambda prefix, label: f"{prefix}-{label}", st.sampled_from("BI"), labels)),
    max_size=12,
)


@given(tag_lists)
def test_bio_spans_bio_round_trip(tags: list[str]) -> None:
    repaired, _ = bio.repair(tags)
    assert bio.tags_from_spans(bio.spans(repaired), len(repaired)) == repaired
    assert bio.spans(repaired) == bio.spans(tags)  # repair never changes the spans
    assert bio.is_valid(repaired)


def test_skipped_tokens_inside_a_slot_continue_it_and_others_are_outside() -> None:
    # "washington , d.c. ?": the model tagged tokens 0 and 2
    assert bio.fill_skipped(["B-city", "I-city"], [0, 2], 4) == ["B-city", "I-city", "I-city", "O"]
    assert bio.fill_skipped(["B-city", "B-state"], [0, 2], 4) == ["B-city", "O", "B-state", "O"]
    assert bio.fill_skipped(["O"], [1], 3) == ["O", "O", "O"]
    assert bio.fill_skipped([], [], 2) == ["O", "O"]
