"""A bulk stage on a thread of its own: same items, same errors, bounded, closed on time."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from hutong.gateway.service import read_ahead


class Source:
    """Counts what it produced, remembers the thread it ran on and whether it was closed."""

    def __init__(self, items: int, fail_at: int | None = None) -> None:
        self.items, self.fail_at = items, fail_at
        self.produced = 0
        self.threads: set[int] = set()
        self.closed_on: int | None = None

    def __iter__(self) -> Iterator[int]:
        try:
            for i in range(self.items):
                self.threads.add(threading.get_ident())
                if i == self.fail_at:
                    raise ValueError(f"row {i} is broken")
                self.produced += 1
                yield i
        finally:
            self.closed_on = threading.get_ident()


def test_items_come_in_order_from_another_thread():
    source = Source(1000)
    assert list(read_ahead(iter(source), depth=3)) == list(range(1000))
    assert threading.get_ident() not in source.threads and len(source.threads) == 1
    assert source.closed_on in source.threads


@pytest.mark.parametrize("depth", [0, 1, 4])
def test_an_error_of_the_source_is_raised_after_the_items_before_it(depth):
    got = []
    with pytest.raises(ValueError, match="row 7 is broken"):
        for item in read_ahead(iter(Source(20, fail_at=7)), depth=depth):
            got.append(item)
    assert got == list(range(7))


def test_closing_early_stops_and_closes_the_source_on_its_thread():
    source = Source(10_000)
    items = read_ahead(iter(source), depth=2)
    assert next(items) == 0 and next(items) == 1
    items.close()  # returns only when the source is closed
    assert source.closed_on is not None and source.closed_on in source.threads
    # bounded: the source ran at most the queue's depth (and the item in hand) ahead
    assert source.produced <= 2 + 2 + 1


def test_nothing_runs_before_the_first_item_is_asked_for():
    source = Source(5)
    items = read_ahead(iter(source), depth=2)
    assert source.produced == 0 and not source.threads
    assert list(items) == list(range(5))


def test_an_empty_source_ends_at_once():
    assert list(read_ahead(iter(()), depth=2)) == []
