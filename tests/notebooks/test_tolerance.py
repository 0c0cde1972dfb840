"""The numeric tolerance nbval uses on chapter outputs (tests/notebooks/tolerance.py)."""

from .tolerance import numbers_close


def test_equal_texts_match():
    assert numbers_close("loss 0.25 after 10 steps", "loss 0.25 after 10 steps")


def test_decimals_within_the_tolerance_match():
    assert numbers_close("gap 0.046955 [0.0401, 0.0532]", "gap 0.0469521 [0.0402, 0.0531]", rtol=1e-2)
    assert numbers_close("error 4.1e-16", "error 5.1e-16", rtol=1e-2, atol=1e-12)


def test_decimals_beyond_the_tolerance_fail():
    assert not numbers_close("best time 13.3342", "best time 10.9492", rtol=1e-2)
    assert not numbers_close("'-0.86 [-1.12, -0.68]'", "'-0.86 [-1.43, -0.28]'", rtol=1e-2)


def test_integers_text_and_shape_must_match_exactly():
    assert not numbers_close("3 runs flagged", "4 runs flagged")
    assert not numbers_close("width 1024: 0.5", "width 2048: 0.5")
    assert not numbers_close("slope 0.50", "slope 0.50 (fit)")
    assert not numbers_close("values 0.1 0.2", "values 0.1 0.2 0.3")
