"""Run inside a separate environment with neural-tangents: times its jit-compiled analytic ReLU NTK.

Usage (called by bench_analytic.py): PYTHON _nt_baseline.py N N0 DEPTH REPEATS SEED [BIAS_VAR]
Prints one JSON line: {"seconds": best warm time, "cpu_seconds": best CPU time of this process, "peak_rss_mb": its own peak, "extra_mb": the peak of
one call over the resident size before it, "corner": K[:4, :4]}.
"""

import json
import resource
import sys
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
from neural_tangents import stax  # noqa: E402


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_mb() -> float:
    # VmHWM belongs to this process's own address space (it restarts at exec); ru_maxrss does not:
    # Linux carries the parent's high-water mark into a child across fork and exec
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


n, n0, depth, repeats, seed = (int(a) for a in sys.argv[1:6])
bias_var = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
b_std = bias_var**0.5 if bias_var > 0 else None
x = np.random.default_rng(seed).standard_normal((n, n0))
layers = []
for _ in range(depth - 1):
    layers += [stax.Dense(1, W_std=1.0, b_std=b_std, parameterization="ntk"), stax.Relu()]
layers += [stax.Dense(1, W_std=1.0, b_std=b_std, parameterization="ntk")]
_, _, kernel_fn = stax.serial(*layers)
kfn = jax.jit(kernel_fn, static_argnames="get")
k = kfn(x, None, get="ntk").block_until_ready()  # compile
best = best_cpu = float("inf")
for _ in range(repeats):
    t, c = time.perf_counter(), time.process_time()
    k = kfn(x, None, get="ntk").block_until_ready()
    best = min(best, time.perf_counter() - t)
    best_cpu = min(best_cpu, time.process_time() - c)
corner = np.asarray(k[:4, :4]).tolist()
whole = _peak_mb()
del k  # the extra memory of one call: from the resident size before it to its peak
before = _status_mb("VmRSS")
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
except OSError:
    pass
kfn(x, None, get="ntk").block_until_ready()
extra = _peak_mb() - before if before is not None else float("nan")
print(json.dumps({"seconds": best, "cpu_seconds": best_cpu, "peak_rss_mb": whole, "extra_mb": extra, "corner": corner}))
