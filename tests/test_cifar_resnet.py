"""CIFAR-10 loader (on tarballs in the CIFAR python format made here) and the baseline residual networks."""

import pytest
import torch

from ntk_lib.data import load_cifar10, write_cifar10_like
from ntk_lib.resnet import ResNet18, TabularResNet


@pytest.fixture
def cache(tmp_path):
    write_cifar10_like(tmp_path / "cifar10" / "cifar-10-python.tar.gz", n_train=53, n_test=17, seed=3)
    return tmp_path


def test_loader_shapes_range_and_subset(cache):
    x, y = load_cifar10(20, seed=1, cache_dir=cache)
    assert x.shape == (20, 3, 32, 32) and x.dtype == torch.float32
    assert y.shape == (20,) and y.dtype == torch.long
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert int(y.min()) >= 0 and int(y.max()) <= 9
    x2, y2 = load_cifar10(20, seed=1, cache_dir=cache)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = load_cifar10(20, seed=2, cache_dir=cache)
    assert not torch.equal(x, x3)
    xa, ya = load_cifar10(None, cache_dir=cache)
    assert xa.shape[0] == 53 and ya.shape[0] == 53  # the five training batches together
    # every image of the subset is one of the split's images, with its own label
    flat = xa.reshape(53, -1)
    for img, lab in zip(x, y):
        hit = (flat == img.reshape(1, -1)).all(dim=1).nonzero()
        assert hit.numel() >= 1 and int(ya[hit[0, 0]]) == int(lab)
    xt, _ = load_cifar10(None, split="test", cache_dir=cache)
    assert xt.shape == (17, 3, 32, 32)
    with pytest.raises(TypeError, match="seed"):
        load_cifar10(20, seed=True, cache_dir=cache)
    with pytest.raises((TypeError, ValueError), match="seed"):
        load_cifar10(20, seed=1.5, cache_dir=cache)


def test_loader_pixel_layout(tmp_path):
    """The python format stores 1024 red, then 1024 green, then 1024 blue values, row-major."""
    import io
    import pickle
    import tarfile

    import numpy as np

    img = np.zeros((1, 3072), dtype=np.uint8)
    img[0, 1024 + 32 * 5 + 7] = 255  # green channel, row 5, column 7
    members = {f"data_batch_{i}": {b"data": img, b"labels": [4]} for i in range(1, 6)}
    members["test_batch"] = {b"data": img, b"labels": [4]}
    path = tmp_path / "cifar10" / "cifar-10-python.tar.gz"
    path.parent.mkdir(parents=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in members.items():
            raw = pickle.dumps(obj)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    x, y = load_cifar10(1, split="test", cache_dir=tmp_path)
    assert float(x[0, 1, 5, 7]) == 1.0 and float(x.sum()) == 1.0 and int(y[0]) == 4


def test_loader_offline_message_and_download(tmp_path, cache):
    with pytest.raises(RuntimeError, match="download=False"):
        load_cifar10(10, cache_dir=tmp_path / "empty")
    src = cache / "cifar10" / "cifar-10-python.tar.gz"
    dest = tmp_path / "fresh"
    x, _ = load_cifar10(5, cache_dir=dest, download=True, url=src.as_uri())
    assert x.shape == (5, 3, 32, 32)
    assert (dest / "cifar10" / "cifar-10-python.tar.gz").exists()
    assert not list((dest / "cifar10").glob("*.part"))
    with pytest.raises(RuntimeError, match="could not download"):
        load_cifar10(5, cache_dir=tmp_path / "bad", download=True, url=(tmp_path / "missing.tar.gz").as_uri())
    assert not list((tmp_path / "bad" / "cifar10").glob("*.part"))


def test_loader_bad_input(cache, tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_cifar10(5, split="val", cache_dir=cache)
    with pytest.raises(ValueError, match="n must"):
        load_cifar10(0, cache_dir=cache)
    with pytest.raises(ValueError, match="at most 53"):
        load_cifar10(54, cache_dir=cache)
    bad = tmp_path / "junk" / "cifar10" / "cifar-10-python.tar.gz"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match="not a CIFAR-10"):
        load_cifar10(5, cache_dir=tmp_path / "junk")


def test_resnet18_parameter_count_and_shape():
    net = ResNet18(num_classes=10)
    assert sum(p.numel() for p in net.parameters()) == 11_173_962
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs[0].kernel_size == (3, 3) and convs[0].stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in net.modules())
    blocks = [len(s) for s in (net.layer1, net.layer2, net.layer3, net.layer4)]
    assert blocks == [2, 2, 2, 2]
    net.eval()
    with torch.no_grad():
        assert net(torch.rand(3, 3, 32, 32)).shape == (3, 10)
    assert sum(p.numel() for p in ResNet18(num_classes=100).parameters()) == 11_173_962 + 90 * 513
    with pytest.raises(ValueError, match="x must be"):
        net(torch.rand(3, 1, 32, 32))
    with pytest.raises(ValueError, match="num_classes"):
        ResNet18(num_classes=0)


def test_resnet18_one_training_step_lowers_the_loss(cache):
    torch.manual_seed(0)
    x, y = load_cifar10(8, cache_dir=cache)
    net = ResNet18(num_classes=10)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    before = [p.detach().clone() for p in net.parameters()]
    loss0 = torch.nn.functional.cross_entropy(net(x), y)
    opt.zero_grad()
    loss0.backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())
    opt.step()
    with torch.no_grad():
        loss1 = torch.nn.functional.cross_entropy(net(x), y)
    assert float(loss1) < float(loss0.detach())
    assert all(not torch.equal(a, p.detach()) for a, p in zip(before, net.parameters()))


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_tabular_resnet(norm):
    net = TabularResNet(5, 16, 3, 4, norm=norm, hidden_dropout=0.5, seed=0)
    x = torch.randn(7, 5)
    net.eval()
    a = net(x)
    assert a.shape == (7, 4)
    assert torch.equal(a, TabularResNet(5, 16, 3, 4, norm=norm, hidden_dropout=0.5, seed=0).eval()(x))
    assert TabularResNet(5, 16, 3, 1, norm=norm, seed=0)(x).shape == (7,)
    net.train()
    assert not torch.allclose(net(x), a)  # dropout acts in training mode
    n_norm = sum(isinstance(m, (torch.nn.BatchNorm1d, torch.nn.LayerNorm)) for m in net.modules())
    assert n_norm == 4  # one per block and one before the head
    with pytest.raises(ValueError, match="norm"):
        TabularResNet(5, 16, 3, norm="group")
    with pytest.raises(ValueError, match="hidden_dropout"):
        TabularResNet(5, 16, 3, hidden_dropout=1.0)
    with pytest.raises(ValueError, match="x must be"):
        net(torch.randn(7, 4))
