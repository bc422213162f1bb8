from datetime import timedelta

from aggregator.stories.dedupe import DuplicateIndex, distance, fingerprint

from .story_fixtures import QUAKE_2026, QUAKE_2026_B, QUAKE_2027, copy_of, doc


def index_with(*docs):  # type: ignore[no-untyped-def]
    index = DuplicateIndex(threshold=0.9, window=timedelta(hours=72))
    for d in docs:
        index.add(d.id, fingerprint(d), d.source, d.published)
    return index


def test_a_syndicated_copy_is_found_and_points_to_the_original() -> None:
    original = doc("q1", "Magnitude 6.8 earthquake strikes northern Chile", QUAKE_2026)
    copy = copy_of(original, "copy", hours=2, source="c.example")
    other = doc("q2", "Chile lifts tsunami warning", QUAKE_2026_B, source="b.example")
    assert len(fingerprint(copy)) == 64
    assert distance(fingerprint(original), fingerprint(copy)) < distance(
        fingerprint(original), fingerprint(other)
    )
    found = index_with(original).find(fingerprint(copy), copy.source, copy.published)
    assert found is not None and found[0] == "q1"


def test_different_reports_of_one_event_are_not_copies() -> None:
    first = doc("q1", "Magnitude 6.8 earthquake strikes northern Chile", QUAKE_2026)
    second = doc("q2", "Chile lifts tsunami warning", QUAKE_2026_B, source="b.example")
    other = doc("q3", "Magnitude 6.1 earthquake strikes central Chile", QUAKE_2027, source="b.example")
    index = index_with(first)
    assert index.find(fingerprint(second), second.source, second.published) is None
    assert index.find(fingerprint(other), other.source, other.published) is None


def test_a_copy_outside_the_window_is_not_attached() -> None:
    original = doc("q1", "Magnitude 6.8 earthquake strikes northern Chile", QUAKE_2026)
    late = copy_of(original, "late", hours=24 * 10, source="c.example")
    assert index_with(original).find(fingerprint(late), late.source, late.published) is None


def test_headlines_are_copies_only_when_identical_and_from_another_outlet() -> None:
    first = doc("h1", "Earthquake hits Chile", source="a.example")
    same_words = doc("h2", "Earthquake hits  CHILE!", hours=1, source="b.example")
    same_outlet = doc("h3", "Earthquake hits Chile", hours=1, source="a.example")
    reworded = doc("h4", "Earthquake hits northern Chile", hours=1, source="b.example")
    index = index_with(first)
    assert fingerprint(first).startswith("h")
    assert index.find(fingerprint(same_words), same_words.source, same_words.published) == ("h1", 1.0)
    assert index.find(fingerprint(same_outlet), same_outlet.source, same_outlet.published) is None
    assert index.find(fingerprint(reworded), reworded.source, reworded.published) is None


def test_expired_originals_leave_the_index() -> None:
    original = doc("q1", "Magnitude 6.8 earthquake strikes northern Chile", QUAKE_2026)
    index = index_with(original)
    assert index.expire(original.published + timedelta(hours=1)) == ["q1"]  # type: ignore[operator]
    assert len(index) == 0
    copy = copy_of(original, "copy", hours=2, source="c.example")
    assert index.find(fingerprint(copy), copy.source, copy.published) is None
