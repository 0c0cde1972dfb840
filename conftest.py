"""Settings every pytest run in this repository needs, however it is invoked.

nbval compares a fresh run of each chapter with its committed outputs, which hold no progress bars
(chapters are executed with them off); the kernels nbval starts inherit this environment, so
``pytest --nbval notebooks/*.ipynb`` passes without the Makefile's ``NTK_PROGRESS=0``; the same
environment pins the CPU kernels (``ntk_lib.notebook.REPRODUCIBLE_ENV``) as when the chapters were
executed. nbval compares decimals to a relative tolerance (``tests/notebooks/tolerance.py``).
"""

from ntk_lib.notebook import reproducible_environment

reproducible_environment()

pytest_plugins = ["tests.notebooks.tolerance"]
