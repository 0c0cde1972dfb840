"""Run inside a separate environment with neural-tangents: times its structured-derivatives empirical NTK.

Usage (called by bench_empirical.py): PYTHON _nt_empirical_baseline.py DATA.npz REPEATS
DATA.npz holds ``x`` [n, d] and the weights ``w0, b0, w1, b1, ...`` of a ``torch.nn.Sequential`` of
``Linear``/``ReLU`` layers (torch layout: ``w`` is [out, in]). The same function is written in JAX
(``relu(x @ w + b)`` per hidden layer, ``w`` transposed once on loading), and ``neural_tangents.empirical_ntk_fn`` with
``implementation=STRUCTURED_DERIVATIVES``, ``trace_axes=()`` and ``vmap_axes=0`` is jit-compiled and
timed warm on ``(x, None)``. Prints one JSON line: {"seconds", "compile_seconds", "cpu_per_wall"
(CPU time over wall time while timing: above 1 means more than one thread), "peak_rss_mb", "corner"}.
"""

import json
import resource
import sys
import time

import jax
import jax.numpy as jnp
import neural_tangents as nt
import numpy as np

path, repeats = sys.argv[1], int(sys.argv[2])
data = np.load(path)
x = jnp.asarray(data["x"])
n_layers = sum(1 for k in data.files if k.startswith("w"))
# weights stored [in, out] so that the layer is one dot_general, the form structured derivatives expect
params = [(jnp.asarray(data[f"w{i}"].T), jnp.asarray(data[f"b{i}"])) for i in range(n_layers)]


def f(params, x):
    for i, (w, b) in enumerate(params):
        x = x @ w + b
        if i < len(params) - 1:
            x = jax.nn.relu(x)
    return x


kfn = jax.jit(
    nt.empirical_ntk_fn(f, trace_axes=(), vmap_axes=0, implementation=nt.NtkImplementation.STRUCTURED_DERIVATIVES)
)
t = time.perf_counter()
k = kfn(x, None, params).block_until_ready()
compile_s = time.perf_counter() - t
best = float("inf")
cpu0, wall0 = time.process_time(), time.perf_counter()
best_cpu = float("inf")
for _ in range(repeats):
    t, c = time.perf_counter(), time.process_time()
    k = kfn(x, None, params).block_until_ready()
    best = min(best, time.perf_counter() - t)
    best_cpu = min(best_cpu, time.process_time() - c)
cpu_per_wall = (time.process_time() - cpu0) / (time.perf_counter() - wall0)  # > 1: more than one thread
k = np.asarray(k).reshape(x.shape[0], x.shape[0], -1)[..., 0]
print(
    json.dumps(
        {
            "seconds": best,
            "cpu_seconds": best_cpu,
            "compile_seconds": compile_s,
            "cpu_per_wall": cpu_per_wall,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "corner": k[:4, :4].tolist(),
        }
    )
)
