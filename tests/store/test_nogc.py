"""store/nogc.py: the GC pause both listings use (SQL and file store) restores what it found."""

from __future__ import annotations

import gc

import pytest

from tracktui.store.nogc import gc_paused


def test_the_collector_is_off_inside_and_back_on_after_even_on_error():
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        with gc_paused():
            assert not gc.isenabled()
            1 / 0  # noqa: B018 - the failure is the point
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_as_a_decorator_each_call_pauses_anew():
    @gc_paused()
    def state() -> bool:
        return gc.isenabled()

    assert state() is False and state() is False
    assert gc.isenabled()
