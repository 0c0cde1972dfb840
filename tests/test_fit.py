"""ntk_lib.fit: exponents over seeds with Student-t intervals, mean and paired intervals."""

import numpy as np
import pytest
import torch
from scipy import stats

from ntk_lib.fit import (
    geometric_interval,
    loglog_slope,
    mean_interval,
    paired_interval,
    ratio_interval,
    slope_interval,
)


def _power_law_runs(rng, exponent, seeds, noise):
    x = np.array([64, 128, 256, 512, 1024, 2048], dtype=float)
    # one multiplicative seed effect per row plus independent noise per point
    y = 3.0 * x[None, :] ** exponent * np.exp(rng.normal(0, noise, (seeds, 1)) + rng.normal(0, noise, (seeds, x.size)))
    return x, y


def test_exact_power_law_gives_a_zero_width_interval():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    y = np.vstack([2.0 * x**-0.5, 5.0 * x**-0.5, 0.1 * x**-0.5])
    fit = slope_interval(x, y)
    assert fit.slope == pytest.approx(-0.5, abs=1e-12)
    assert fit.low == pytest.approx(-0.5, abs=1e-12) and fit.high == pytest.approx(-0.5, abs=1e-12)
    assert fit.n_seeds == 3
    assert loglog_slope(x, y[0])[0] == pytest.approx(-0.5, abs=1e-12)


def test_point_estimate_is_the_fit_of_the_mean_log():
    rng = np.random.default_rng(1)
    x, y = _power_law_runs(rng, -1.0, 5, 0.2)
    fit = slope_interval(x, y)
    slope, intercept = np.polyfit(np.log(x), np.log(y).mean(axis=0), 1)
    assert fit.slope == pytest.approx(slope, abs=1e-12)
    assert fit.intercept == pytest.approx(intercept, abs=1e-12)
    assert fit.low <= fit.slope <= fit.high


@pytest.mark.parametrize("seeds", [3, 12])
def test_interval_covers_the_true_exponent_about_95_percent(seeds):
    # with 3 seeds a percentile bootstrap covers ~75 %: the t interval must stay near 95 % there too
    rng = np.random.default_rng(1)
    trials, hits = 600, 0
    for _ in range(trials):
        x, y = _power_law_runs(rng, -0.5, seeds, 0.2)
        fit = slope_interval(x, y)
        hits += fit.low <= -0.5 <= fit.high
    assert 0.92 <= hits / trials <= 0.98


def test_interval_is_the_t_interval_of_per_seed_slopes():
    rng = np.random.default_rng(2)
    x, y = _power_law_runs(rng, 1.5, 4, 0.3)
    slopes = np.array([np.polyfit(np.log(x), np.log(row), 1)[0] for row in y])
    half = stats.t.ppf(0.975, 3) * slopes.std(ddof=1) / 2
    fit = slope_interval(x, y)
    assert fit.slope == pytest.approx(slopes.mean(), abs=1e-12)
    assert (fit.low, fit.high) == pytest.approx((slopes.mean() - half, slopes.mean() + half), abs=1e-12)


def test_interval_narrows_with_more_seeds():
    rng = np.random.default_rng(3)
    widths = []
    for seeds in (4, 64):
        x, y = _power_law_runs(rng, -0.5, seeds, 0.3)
        fit = slope_interval(x, y)
        widths.append(fit.high - fit.low)
    assert widths[1] < 0.5 * widths[0]


def test_accepts_tensors():
    x = torch.tensor([1.0, 2.0, 4.0])
    y = torch.stack([x**2, 2 * x**2])
    assert slope_interval(x, y).slope == pytest.approx(2.0)


def test_mean_and_paired_intervals_match_student_t():
    rng = np.random.default_rng(2)
    a = rng.normal(1.0, 0.5, 8)
    b = a - 0.3 + rng.normal(0, 0.05, 8)
    ci = mean_interval(a)
    lo, hi = stats.t.interval(0.95, 7, loc=a.mean(), scale=stats.sem(a))
    assert (ci.low, ci.high) == pytest.approx((lo, hi), rel=1e-12)
    d = paired_interval(a, b)
    assert d.mean == pytest.approx(0.3, abs=0.05)
    assert d.low > 0  # pairing removes the seed-to-seed spread of a: the difference is resolved
    assert not (mean_interval(a).low > mean_interval(b).high)  # unpaired intervals overlap


def test_geometric_interval_is_the_t_interval_of_the_logs_mapped_back():
    rng = np.random.default_rng(3)
    v = np.exp(rng.normal(-3.0, 1.5, 4))  # a spread that drives an arithmetic interval below zero
    assert mean_interval(v).low < 0
    g = geometric_interval(v)
    lo, hi = stats.t.interval(0.95, 3, loc=np.log(v).mean(), scale=stats.sem(np.log(v)))
    assert (g.mean, g.low, g.high) == pytest.approx((np.exp(np.log(v).mean()), np.exp(lo), np.exp(hi)), rel=1e-12)
    assert 0 < g.low < g.mean < g.high


def test_ratio_interval_pairs_the_seeds():
    rng = np.random.default_rng(4)
    b = np.exp(rng.normal(0, 1.0, 6))  # a large seed effect shared by both models
    a = 0.8 * b * np.exp(rng.normal(0, 0.02, 6))
    r = ratio_interval(a, b)
    assert r.mean == pytest.approx(0.8, rel=0.03)
    assert r.high < 1  # resolved, although the unpaired geometric intervals overlap
    assert geometric_interval(a).high > geometric_interval(b).low


def test_interval_text_keeps_three_significant_digits():
    assert str(geometric_interval([1.0, 1.96, 1.4])).startswith("1.40 [")
    assert str(mean_interval([0.5, 1.5])) == "1.00 [-5.35, 7.35]"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: slope_interval([1, 2], [[1.0, 2.0]]), "at least 2 seeds"),
        (lambda: slope_interval([1, 2], [1.0, 2.0]), "2-D"),
        (lambda: slope_interval([1, 2, 3], [[1.0, 2.0], [1.0, 2.0]]), "columns"),
        (lambda: slope_interval([1, 2], [[1.0, -2.0], [1.0, 2.0]]), "y must be finite and > 0"),
        (lambda: slope_interval([1, 1], [[1.0, 2.0], [1.0, 2.0]]), "distinct"),
        (lambda: slope_interval([1, 2], [[1.0, 2.0], [1.0, 2.0]], level=1.5), "level"),
        (lambda: mean_interval([1.0]), "at least 2"),
        (lambda: mean_interval([1.0, float("nan")]), "finite"),
        (lambda: paired_interval([1.0, 2.0], [1.0]), "same length"),
        (lambda: geometric_interval([1.0, 0.0, 2.0]), "positive"),
        (lambda: geometric_interval([1.0]), "at least 2"),
        (lambda: ratio_interval([1.0, 2.0], [1.0, -2.0]), "positive"),
        (lambda: ratio_interval([1.0, 2.0], [1.0]), "same length"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
