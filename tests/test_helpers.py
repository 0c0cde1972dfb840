import math

import numpy as np
import pytest
import torch

from ntk_lib.data import circle, sphere
from ntk_lib.fit import loglog_slope
from ntk_lib.notebook import setup


def test_loglog_slope_exact_and_errors():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    slope, intercept = loglog_slope(x, 3.0 * x**-0.5)
    assert slope == pytest.approx(-0.5, abs=1e-12)
    assert intercept == pytest.approx(math.log(3.0), abs=1e-12)
    with pytest.raises(ValueError, match="y must be finite and > 0"):
        loglog_slope(x, -x)
    with pytest.raises(ValueError, match="same length"):
        loglog_slope(x, x[:3])


def test_sphere_and_circle():
    x = sphere(50, 7, seed=3)
    assert torch.allclose(x.norm(dim=1), torch.ones(50, dtype=torch.float64))
    assert torch.equal(x, sphere(50, 7, seed=3))
    ang, pts = circle(10)
    assert bool((torch.diff(ang) > 0).all()) and float(ang.max()) < 2 * math.pi
    assert torch.allclose(pts.norm(dim=1), torch.ones(10, dtype=torch.float64))
    ang, _ = circle(4, random=False)
    assert torch.allclose(ang, torch.tensor([0, math.pi / 2, math.pi, 3 * math.pi / 2], dtype=torch.float64))
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        sphere(3, 0)


def test_setup_validates_and_picks(monkeypatch):
    monkeypatch.setenv("NTK_DEVICE", "cpu")
    run = setup("smoke", 1, "auto")
    assert run.pick({"smoke": 1, "book": 2, "paper": 3}) == 1
    assert run.device == torch.device("cpu")
    with pytest.raises(ValueError, match="SCALE must be one of"):
        setup("huge")
    with pytest.raises(ValueError, match="missing"):
        run.pick({"smoke": 1})


def test_glue_rounds_reals():
    from ntk_lib.notebook import _rounded

    assert _rounded(0.09516321099556828, 6) == 0.0951632
    assert _rounded(0.09516321099556846, 6) == _rounded(0.09516321099556828, 6)
    assert _rounded(7, 6) == 7 and _rounded("x", 6) == "x"


def test_reproducible_environment_overrides_thread_and_kernel_settings():
    from ntk_lib.notebook import REPRODUCIBLE_ENV, reproducible_environment

    env = {"OMP_NUM_THREADS": "1", "OTHER": "kept"}
    out = reproducible_environment(env)
    assert out is env and env["OTHER"] == "kept"
    assert {k: env[k] for k in REPRODUCIBLE_ENV} == REPRODUCIBLE_ENV
    assert env["OMP_NUM_THREADS"] == "2" and env["ATEN_CPU_CAPABILITY"] == "avx2"
