import pytest
import torch
from hypothesis import settings

settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True)
settings.load_profile("ci")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def sphere_points():
    def make(n, n0, seed=0):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(n, n0, generator=g, dtype=torch.float64)
        return x / x.norm(dim=1, keepdim=True)

    return make
