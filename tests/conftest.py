"""Test-session set-up shared by every test module.

One BLAS thread per process unless the caller chose otherwise: the physics kernels work on many
small dense blocks, where threaded BLAS on a small shared machine is up to 10× slower. This has to
run before numpy is imported, which is why it lives at the top of conftest.py.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


import itertools

import numpy as np
import pytest


@pytest.fixture(scope="session")
def cubic_operations() -> list[np.ndarray]:
    """The 48 proper and improper rotations of the cube (signed permutation matrices)."""
    ops = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            r = np.zeros((3, 3))
            r[np.arange(3), perm] = signs
            ops.append(r)
    return ops
