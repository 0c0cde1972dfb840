"""Keep the kernel's own log out of the build output: its note on unencrypted local TCP, printed
once per notebook run by papermill, nbval and the book build, is not something a reader can act on.

    python tools/quiet_kernel.py     # with the Python of the environment whose kernel to quiet

Adds ``--IPKernelApp.log_level=ERROR`` to that environment's ``python3`` kernelspec (idempotent);
kernel errors still show, and cell outputs (warnings included) are unaffected.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FLAG = "--IPKernelApp.log_level=ERROR"


def main() -> int:
    spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    if not spec.is_file():
        raise SystemExit(f"no kernelspec at {spec} (run: python -m ipykernel install --sys-prefix --name python3)")
    kernel = json.loads(spec.read_text())
    if FLAG not in kernel["argv"]:
        kernel["argv"].append(FLAG)
        spec.write_text(json.dumps(kernel, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
