"""Throughput of the WFM engine against the dense-linear-algebra bound.

For block sizes n (162, 324, 648, 900: 3×3 and 5×5 fcc(001) supercells with 18
spin-orbitals per atom and one or two atomic layers per principal layer) and M slab
layers, the script builds random Hermitian onsite blocks, random couplings (dense, or
with ``--layered`` the MTO principal-layer structure where only the last half of a
layer couples to the first half of the next) and a lead with that realistic
rank-deficient hopping (rank n/2), then times

* ``lead``   : :func:`tbmto.wfm.lead_modes` for one lead (once per lead per k∥),
* ``sweep``  : the slab part of :func:`tbmto.wfm.smatrix_from_modes` (S only),
* ``sweep+dS``: the same with ∂S/∂θ (adds the backward sweep),

and compares the sweep with the dense bound measured in the same run (all timings are
best-of ``--repeats`` because the machine may be shared): per layer one
LU of an n × n complex block + one triangular solve with n right-hand sides + one
n × n GEMM (18.7 n³ real flops), times M. Printed per (n, M): seconds per k-point,
seconds per layer, achieved GFLOP/s and ratio sweep / bound (target ≤ 2 for n ≥ 324;
time per layer should not depend on M). GFLOP/s always uses the dense flop count, so
with ``--layered`` it is an effective rate.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_wfm.py --quick
    python benchmarks/bench_wfm.py --sizes 162 324 648 900 --layers 20 50 100
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import scipy.linalg as sla

from tbmto.wfm import lead_modes, smatrix_from_modes

FLOPS_PER_LAYER = 8.0 / 3.0 + 8.0 + 8.0  # × n³, complex LU + trsm(n rhs) + GEMM


def random_hermitian(n: int, rng: np.random.Generator, scale: float) -> np.ndarray:
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return (a + a.conj().T) * (scale / np.sqrt(8 * n))


def lead_blocks(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random lead with rank-deficient inter-cell hopping (rank n/2)."""
    h = random_hermitian(n, rng, 2.0)
    r = n // 2
    v = np.zeros((n, n), complex)
    v[n - r:, :r] = (rng.normal(size=(r, r)) + 1j * rng.normal(size=(r, r))) / np.sqrt(2 * r)
    return h, v


def dense_bound(a_pool: list[np.ndarray], b_pool: list[np.ndarray], layers: int, repeats: int) -> float:
    """Best-of time of ``layers`` × (complex LU + n-rhs triangular solve + GEMM).

    Cycles through the same pool of distinct blocks as the sweep, so that cache effects
    are comparable; this is the dense-linear-algebra floor of a block-tridiagonal solve.
    """
    def loop():
        for i in range(layers):
            a, b = a_pool[i % len(a_pool)], b_pool[i % len(b_pool)]
            lu = sla.lu_factor(a, check_finite=False)
            x = sla.lu_solve(lu, b, check_finite=False)
            _ = b.conj().T @ x
    return best_of(repeats, loop)[0]


def best_of(repeats: int, func) -> tuple[float, object]:
    """Minimum wall time over ``repeats`` calls (the machine may be shared) and a result."""
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def slab_coupling(n: int, rng: np.random.Generator, layered: bool) -> np.ndarray:
    """Random inter-layer coupling: dense, or (``layered``) like an MTO principal layer,
    where only the last half of layer i couples to the first half of layer i+1."""
    c = (rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))) / np.sqrt(4 * n)
    if layered:
        r = n // 2
        c[: n - r, :] = 0.0
        c[:, r:] = 0.0
    return c


def run(n: int, layers: list[int], rng: np.random.Generator, with_ds: bool, repeats: int,
        layered: bool = False) -> list[dict]:
    h_l, v_l = lead_blocks(n, rng)
    t0 = time.perf_counter()
    lead = lead_modes(h_l, v_l, 0.0)
    t_lead = time.perf_counter() - t0
    pool = 4  # distinct random blocks, cycled (keeps memory at O(n²) for the inputs)
    hs_pool = [random_hermitian(n, rng, 2.0) for _ in range(pool)]
    vs_pool = [slab_coupling(n, rng, layered) for _ in range(pool)]
    dh_pool = [random_hermitian(n, rng, 0.1) for _ in range(pool)]
    rows = []
    for m in layers:
        hs = [hs_pool[i % pool] for i in range(m)]
        vs = [v_l] + [vs_pool[i % pool] for i in range(m - 1)] + [v_l]
        t_sweep, res = best_of(repeats, lambda: smatrix_from_modes(lead, lead, hs, vs))
        dense = [slab_coupling(n, rng, False) for _ in range(pool)]
        t_bound = dense_bound([x + 3.0 * np.eye(n) for x in hs_pool], dense, m, repeats)
        row = dict(n=n, M=m, modes=lead.n_modes, lead_s=t_lead, sweep_s=t_sweep,
                   per_layer_s=t_sweep / m, gflops=FLOPS_PER_LAYER * n**3 * m / t_sweep / 1e9,
                   bound_s=t_bound, ratio=t_sweep / t_bound,
                   unitarity=res.unitarity_error(), ds_s=np.nan)
        if with_ds:
            dh = [dh_pool[i % pool] for i in range(m)]
            row["ds_s"], _ = best_of(repeats, lambda: smatrix_from_modes(lead, lead, hs, vs, dh))
        rows.append(row)
        print_row(row)
    return rows


def print_header() -> None:
    print(f"{'n':>5} {'M':>4} {'modes':>5} {'lead[s]':>8} {'sweep[s]':>9} {'s/layer':>8} "
          f"{'GFLOP/s':>8} {'bound[s]':>9} {'ratio':>6} {'+dS[s]':>8} {'|S+S-1|':>9}", flush=True)


def print_row(r: dict) -> None:
    print(f"{r['n']:>5} {r['M']:>4} {r['modes']:>5} {r['lead_s']:>8.2f} {r['sweep_s']:>9.3f} "
          f"{r['per_layer_s']:>8.4f} {r['gflops']:>8.2f} {r['bound_s']:>9.3f} {r['ratio']:>6.2f} "
          f"{r['ds_s']:>8.3f} {r['unitarity']:>9.1e}", flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[162, 324, 648, 900])
    p.add_argument("--layers", type=int, nargs="+", default=[20, 50, 100])
    p.add_argument("--quick", action="store_true", help="n = 162, 324 with 20 and 40 layers")
    p.add_argument("--no-ds", action="store_true", help="skip the dS/dθ timing")
    p.add_argument("--layered", action="store_true",
                   help="slab couplings with MTO principal-layer structure (half the rows/columns "
                        "zero); the bound stays the dense one")
    p.add_argument("--repeats", type=int, default=2, help="best-of repeats per timing")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    sizes, layers = (args.sizes, args.layers) if not args.quick else ([162, 324], [20, 40])
    for name, val in (("--sizes", sizes), ("--layers", layers)):
        if any(x < 2 for x in val):
            raise ValueError(f"{name} values must be >= 2, got {val}")
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}  "
          f"couplings={'layered (rank n/2, zero rows/cols)' if args.layered else 'dense'}  "
          f"flops/layer (dense count) = {FLOPS_PER_LAYER:.2f} n^3 (complex LU + trsm + GEMM)", flush=True)
    print_header()
    rng = np.random.default_rng(args.seed)
    for n in sizes:
        run(n, layers, rng, not args.no_ds, max(1, args.repeats), args.layered)


if __name__ == "__main__":
    main()
