"""The progress throttle, without Qt and without sleeping: a hand-driven clock."""

from __future__ import annotations

from billing_desk.domain.progress import ThrottledProgress


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _throttle(interval: float = 0.05) -> tuple[ThrottledProgress, FakeClock, list[tuple[int, int]]]:
    clock, seen = FakeClock(), []
    return ThrottledProgress(lambda d, t: seen.append((d, t)), interval, clock), clock, seen


def test_the_first_report_passes_even_at_time_zero() -> None:
    progress, _clock, seen = _throttle()
    progress(0, 10)
    assert seen == [(0, 10)]


def test_reports_inside_the_interval_are_dropped() -> None:
    progress, clock, seen = _throttle(interval=0.05)
    progress(1, 100)
    clock.now = 0.01
    progress(2, 100)
    clock.now = 0.049
    progress(3, 100)
    assert seen == [(1, 100)]
    clock.now = 0.05
    progress(4, 100)
    clock.now = 0.06
    progress(5, 100)
    assert seen == [(1, 100), (4, 100)]


def test_the_interval_counts_from_the_last_forwarded_report() -> None:
    progress, clock, seen = _throttle(interval=1.0)
    progress(1, 100)
    for step in range(1, 10):  # a report every 0.3 s: every fourth one is a second after the last sent
        clock.now = step * 0.3
        progress(1 + step, 100)
    assert [d for d, _t in seen] == [1, 5, 9]


def test_the_final_report_always_passes() -> None:
    progress, clock, seen = _throttle(interval=10.0)
    progress(1, 3)
    clock.now = 0.001
    progress(2, 3)
    progress(3, 3)
    assert seen == [(1, 3), (3, 3)]


def test_an_unknown_total_is_never_final() -> None:
    progress, clock, seen = _throttle(interval=10.0)
    progress(0, 0)
    clock.now = 0.001
    progress(5, 0)
    assert seen == [(0, 0)]


def test_a_zero_interval_forwards_everything() -> None:
    progress, _clock, seen = _throttle(interval=0)
    for done in range(5):
        progress(done, 0)
    assert [d for d, _t in seen] == [0, 1, 2, 3, 4]
