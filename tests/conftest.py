"""Test-session set-up shared by every test module.

One BLAS thread per process unless the caller chose otherwise: the physics kernels work on many
small dense blocks, where threaded BLAS on a small shared machine is up to 10× slower. This has to
run before numpy is imported, which is why it lives at the top of conftest.py.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
