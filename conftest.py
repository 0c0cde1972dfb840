"""Settings every pytest run in this repository needs, however it is invoked.

nbval compares a fresh run of each chapter with its committed outputs, which hold no progress bars
(chapters are executed with them off); the kernels nbval starts inherit this environment, so
``pytest --nbval notebooks/*.ipynb`` passes without the Makefile's ``NTK_PROGRESS=0``.
"""

import os

os.environ.setdefault("NTK_PROGRESS", "0")
os.environ.setdefault("PYTHONHASHSEED", "0")
