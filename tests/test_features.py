import math
import zipfile

import numpy as np
import pytest
import torch

from ntk_lib.data import context_distributions, load_text8, synthetic_corpus
from ntk_lib.features import drift_stats, gram, gram_change, layer_drift, neuron_drift
from ntk_lib.fit import loglog_slope
from ntk_lib.models import MLP
from ntk_lib.training import train_gd


def test_drift_metrics_on_hand_computed_case():
    h0 = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    ht = torch.tensor([[1.0, 2.0, 7.0], [3.0, 4.0, 0.0]])
    assert layer_drift(h0, ht).tolist() == [4.0, 5.0]
    assert neuron_drift(h0, ht).tolist() == [4.0, 4.0]
    s = drift_stats(h0, ht)
    assert s.layer_mean == 4.5 and s.layer_sd == pytest.approx(math.sqrt(0.5))
    assert s.neuron_mean == 4.0 and s.neuron_sd == 0.0
    assert s.ratio_mean == pytest.approx((1.0 + 1.25) / 2)


def test_equal_moves_give_ratio_sqrt_n():
    """n neurons each moving by delta: layer drift sqrt(n) delta, ratio sqrt(n)."""
    n = 400
    h0 = torch.randn(5, n, dtype=torch.float64)
    ht = h0 + 0.01 * torch.sign(torch.randn(5, n, dtype=torch.float64))
    s = drift_stats(h0, ht)
    assert s.layer_mean == pytest.approx(0.01 * math.sqrt(n), rel=1e-12)
    assert s.ratio_mean == pytest.approx(math.sqrt(n), rel=1e-12)


def test_gram_and_gram_change():
    h = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    assert torch.equal(gram(h), torch.tensor([[1.0, 1.0], [1.0, 2.0]], dtype=torch.float64))
    assert torch.equal(gram(h, normalized=True), gram(h) / 2)
    assert gram_change(h, h) == 0.0
    assert gram_change(h, 2 * h) == pytest.approx(3.0)


def test_drift_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        layer_drift(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="did not move"):
        drift_stats(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="h0"):
        neuron_drift(torch.zeros(3), torch.zeros(3))


def test_mup_initialization_scales():
    """mu-P: same hidden layers as NTK, readout smaller by sqrt(width), learning rate times width."""
    x = torch.randn(64, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    outs = {}
    for p in ("ntk", "mup"):
        for width in (256, 4096):
            net = MLP(5, width, 3, parameterization=p, seed=1, dtype=torch.float64)
            with torch.no_grad():
                outs[(p, width)] = float(net(x).std())
            assert net.lr_multiplier == (width if p == "mup" else 1.0)
    assert outs[("ntk", 4096)] == pytest.approx(outs[("ntk", 256)], rel=0.3)  # O(1)
    shrink = outs[("mup", 256)] / outs[("mup", 4096)]
    assert 2.5 < shrink < 6.5  # O(width^-1/2): sqrt(16) = 4
    a = MLP(5, 256, 3, parameterization="ntk", seed=1, dtype=torch.float64)
    b = MLP(5, 256, 3, parameterization="mup", seed=1, dtype=torch.float64)
    assert torch.allclose(a.features(x), b.features(x))  # identical hidden layers


def _neuron_drift_slope(param, widths, steps=5):
    g = torch.Generator().manual_seed(3)
    x = torch.eye(8, dtype=torch.float64)
    y = torch.randn(8, 4, generator=g, dtype=torch.float64)
    drifts = []
    for width in widths:
        vals = []
        for seed in range(2):
            net = MLP(8, width, 3, out_features=4, parameterization=param, seed=seed, dtype=torch.float64)
            h0 = net.features(x).detach()
            train_gd(net, x, y, lr=0.05 * net.lr_multiplier, steps=steps, progress=False)
            vals.append(drift_stats(h0, net.features(x).detach()).neuron_mean)
        drifts.append(np.mean(vals))
    return loglog_slope(widths, drifts)[0]


def test_per_neuron_drift_vanishes_in_ntk_not_in_mup():
    widths = [64, 256, 1024]
    assert _neuron_drift_slope("ntk", widths) < -0.3  # about -1/2 (up to log factors of the max)
    assert abs(_neuron_drift_slope("mup", widths)) < 0.2  # O(1): feature learning


def test_synthetic_corpus_is_deterministic_and_topical():
    a = synthetic_corpus(5000, vocab_size=60, n_topics=3, seed=1)
    assert a == synthetic_corpus(5000, vocab_size=60, n_topics=3, seed=1)
    assert len(a) == 5000 and a != synthetic_corpus(5000, vocab_size=60, n_topics=3, seed=2)
    vocab, p = context_distributions(a, 30, window=2)
    assert p.shape == (30, 30) and torch.allclose(p.sum(1), torch.ones(30, dtype=torch.float64))
    # words of the same topic share contexts: their context distributions are closer
    topic = torch.tensor([int(w[1:]) % 3 for w in vocab])
    sim = torch.nn.functional.cosine_similarity(p[:, None, :], p[None, :, :], dim=2)
    same = topic[:, None] == topic[None, :]
    off = ~torch.eye(30, dtype=torch.bool)
    assert float(sim[same & off].mean()) > float(sim[~same].mean()) + 0.1


def test_context_distributions_hand_case():
    vocab, p = context_distributions(["a", "b", "a", "c"], 3, window=1)
    assert vocab == ["a", "b", "c"]
    # a's neighbours: b (twice), c (once); b's: a, a; c's: a
    assert p[0].tolist() == pytest.approx([0.0, 2 / 3, 1 / 3])
    assert p[1].tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="distinct words"):
        context_distributions(["a", "b"], 3)


def test_text8_loader_offline(tmp_path):
    with pytest.raises(RuntimeError, match="synthetic_corpus"):
        load_text8(cache_dir=tmp_path)  # no cache, download not allowed
    with pytest.raises(RuntimeError, match="could not download text8"):
        load_text8(cache_dir=tmp_path, download=True, url="file:///nonexistent/text8.zip")
    root = tmp_path / "text8"
    root.mkdir(exist_ok=True)  # the failed download above may have made it
    with zipfile.ZipFile(root / "text8.zip", "w") as zf:
        zf.writestr("text8", " anarchism originated as a term of abuse first used against")
    assert load_text8(cache_dir=tmp_path)[:3] == ["anarchism", "originated", "as"]
    assert load_text8(cache_dir=tmp_path, max_tokens=4) == ["anarchism", "originated", "as", "a"]
