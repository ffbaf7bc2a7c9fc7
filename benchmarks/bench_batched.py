"""Per-k∥ cost of the batched transmission path against the per-k path (1×1 Cu [001]).

The system is the one of ``tests/test_transport.py``: a 1×1 fcc Cu [001] stack, L = 4 slab
layers, Cu leads, SOC (orthogonal form), published Cu potential parameters linearised at the
band centre; principal layers of two atomic layers, n = 36 spin-orbitals per block. For the
k∥ points of a 64×64 shifted mesh (``--nk`` of them, evenly spread over the mesh; all 4096
with ``--nk 4096``) the script measures, in one run and best-of ``--repeats``:

* ``assembly``  : ``MTOModel.blocks(k)`` per k (what ``transport.compute`` does per k),
* ``per-k``     : ``smatrix(...)`` per k (lead modes + slab), the solve of today's path,
* ``lead_modes``: the per-k lead-mode solve alone (one lead: left and right are identical),
* ``stack``     : stacking the per-k blocks (:func:`tbmto.wfm.batched.stack_blocks`),
* ``batched``   : :func:`tbmto.wfm.batched.transmission_batched` on batches of
  ``batch_size_for(36)`` (or ``--batch``) k-points (default: two decimation steps),
* ``batched d=0``: the same without decimation (the 2r × 2r = 72 × 72 lead eigenproblem),
* ``eig 72x72`` : ``numpy.linalg.eig`` alone on the stacked undecimated 72 × 72 lead
  matrices — the LAPACK floor of any method that diagonalises the full pencil (batched or
  per k: ``lead_modes`` does a Schur form of the same matrix);
* ``batched+TR``: the same with a time-reversal :class:`tbmto.wfm.batched.LeadMap`: the
  k-points come in pairs (k, −k mod G) and the lead of the second is mapped from the first
  (h(−k) = Y h(k)* Y†, Y = 1_atom ⊗ iσ_y ⊗ 1_L in the [atom][spin][L] MTO order);

all in milliseconds per k-point. It then compares T, N_left, N_right of the two paths on
every k-point (worst |ΔT|), counts fallbacks and, with ``--batch-scan``, prints the batched
time per k for several batch sizes, and with ``--model-scan`` the per-k and batched solve times of
square-lattice strips (n = 2 … 36 orbitals, M = 4) to show where the gain comes from. Timings
are best-of because the machine may be shared.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_batched.py              # 256 k-points
    OMP_NUM_THREADS=1 python benchmarks/bench_batched.py --nk 4096    # the whole mesh
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from tbmto.layers import kmesh
from tbmto.model import MTOModel
from tbmto.potentials import load
from tbmto.structure import build_stack
from tbmto.wfm import lead_modes, smatrix
from tbmto.wfm.batched import (LeadMap, _h, _mobius_pencil, batch_size_for, stack_blocks,
                               transmission_batched)
from tbmto.wfm.models import strip_blocks

ROOT = Path(__file__).resolve().parent.parent


def build_model(layers: int = 4):
    atoms = build_stack("001", (1, 1), layers=layers, lattice_constant=3.614, composition={"Cu": 1.0},
                        lead="Cu", lead_layers=2)
    pots = load(ROOT / "tests" / "data" / "cu_rslmto.json", linearisation="band_centre")
    return MTOModel.build(atoms, pots, 0.0, soc=True, soc_form="orthogonal")


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def lead_matrices(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The stacked Möbius matrices T whose eig the batched lead solve performs (full rank only)."""
    uu, sv, vh = np.linalg.svd(v)
    r = v.shape[1]
    root = np.sqrt(sv)
    p_mat = uu * root[:, None, :]
    q_mat = _h(vh) * root[:, None, :]
    return _mobius_pencil(h, v, 0.0, r, p_mat, q_mat)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nk", type=int, default=256, help="k-points of the 64x64 mesh to use")
    ap.add_argument("--layers", type=int, default=4, help="slab layers L")
    ap.add_argument("--batch", type=int, default=None, help="batch size (default batch_size_for(n))")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-scan", action="store_true", help="time several batch sizes")
    ap.add_argument("--model-scan", action="store_true", help="per-k vs batched for strips of n = 2 ... 36")
    args = ap.parse_args()
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")

    model = build_model(args.layers)
    ks_all = kmesh(model.layered.cell2d, (64, 64))
    # k-points in time-reversal pairs (i, j) <-> (63 - i, 63 - j) (k <-> -k mod G on the shifted mesh)
    half = np.array([q for q in range(4096) if q < (63 - q // 64) * 64 + (63 - q % 64)])
    npair = max(1, min(args.nk, 4096) // 2)
    seeds = half[np.linspace(0, len(half) - 1, npair).round().astype(int)]
    order = np.ravel([[q, (63 - q // 64) * 64 + (63 - q % 64)] for q in seeds])
    ks = ks_all[order]
    nk = len(ks)
    blocks = [model.blocks(k) for k in ks]
    n = blocks[0].h_left.shape[0]
    bs = args.batch or batch_size_for(n)
    bs += bs % 2  # keep pairs together
    print(f"1x1 Cu [001], L = {args.layers}: M = {len(blocks[0].h_slab)} principal layers, n = {n}, "
          f"{nk} k-points of the 64x64 mesh, batch {bs}")

    def assembly():
        for k in ks:
            model.blocks(k)

    ref = []

    def per_k():
        ref.clear()
        for b in blocks:
            ref.append(smatrix(b.h_left, b.v_left, b.h_slab, b.v_slab, b.h_right, b.v_right))

    def leads_only():
        for b in blocks:
            lead_modes(b.h_left, b.v_left, 0.0)

    chunks = [blocks[i:i + bs] for i in range(0, nk, bs)]
    stacked = []

    def stack():
        stacked.clear()
        for c in chunks:
            stacked.append(stack_blocks(c))

    out = []

    def batched():
        out.clear()
        for s in stacked:
            out.append(transmission_batched(*s))

    def batched_d0():
        for s in stacked:
            transmission_batched(*s, decimation=0)

    stack()
    t_mats = [lead_matrices(s[0], s[1]) for s in stacked]

    def eig_floor():
        for t in t_mats:
            np.linalg.eig(t)

    y = np.kron(np.eye(n // 18), np.kron(np.array([[0.0, 1.0], [-1.0, 0.0]]), np.eye(9)))
    maps = []
    for s in stacked:
        src = np.full(s[0].shape[0], -1)
        src[1::2] = np.arange(0, s[0].shape[0] - 1, 2)
        maps.append(LeadMap(src, y, antiunitary=True))
    out_tr = []

    def batched_tr():
        out_tr.clear()
        for s, mp in zip(stacked, maps):
            out_tr.append(transmission_batched(*s, lead_map=mp))

    times = {}
    for name, fn in (("assembly", assembly), ("per-k", per_k), ("lead_modes", leads_only),
                     ("stack", stack), ("batched", batched), ("batched d=0", batched_d0),
                     ("eig 72x72", eig_floor), ("batched+TR", batched_tr)):
        times[name] = best_of(fn, args.repeats) / nk * 1e3
    print("\nms per k-point (best of %d)" % args.repeats)
    for name, t in times.items():
        print(f"  {name:<11s} {t:8.3f}")
    before = times["assembly"] + times["per-k"]
    after = times["assembly"] + times["stack"] + times["batched"]
    after_tr = times["assembly"] + times["stack"] + times["batched+TR"]
    print(f"\nsolve speed-up per-k / batched:    {times['per-k'] / times['batched']:.2f}x   "
          f"per-k / batched+TR: {times['per-k'] / times['batched+TR']:.2f}x")
    print(f"per-k-point total, assembly + solve: {before:.3f} -> {after:.3f} ms ({before / after:.2f}x), "
          f"with TR {after_tr:.3f} ms ({before / after_tr:.2f}x)")
    print(f"share of the batched total: assembly + stacking {(times['assembly'] + times['stack']) / after:.0%}; "
          f"the undecimated 72x72 eig alone would be {times['eig 72x72']:.3f} ms "
          f"({times['per-k'] / times['eig 72x72']:.1f}x below per-k)")

    t_b = np.concatenate([o.transmission for o in out])
    nl_b = np.concatenate([o.n_left for o in out])
    nr_b = np.concatenate([o.n_right for o in out])
    fb = np.concatenate([o.fallback for o in out])
    t_r = np.array([r.transmission() for r in ref])
    nl_r = np.array([r.n_left for r in ref])
    nr_r = np.array([r.n_right for r in ref])
    ue = np.concatenate([o.unitarity_error for o in out])
    print(f"\naccuracy on {nk} k-points: max|T_batched - T_smatrix| = {np.max(np.abs(t_b - t_r)):.2e}, "
          f"N_left equal: {bool(np.all(nl_b == nl_r))}, N_right equal: {bool(np.all(nr_b == nr_r))}, "
          f"max unitarity_error = {np.max(ue):.1e}, fallbacks = {int(fb.sum())}")
    reasons = sorted({r for o in out for r in o.reason if r})
    for r in reasons:
        print(f"  fallback reason: {r}")
    t_tr = np.concatenate([o.transmission for o in out_tr])
    print(f"time-reversal map: {sum(o.n_mapped for o in out_tr)} of {nk} leads mapped, "
          f"max|T_TR - T_smatrix| = {np.max(np.abs(t_tr - t_r)):.2e}, "
          f"fallbacks = {sum(o.n_fallback for o in out_tr)}")
    print(f"<T> = {np.mean(t_b):.6f}, <N_left> = {np.mean(nl_b):.4f} (Sharvin: T = N for perfect Cu: "
          f"max|T - N| = {np.max(np.abs(t_b - nl_b)):.1e})")

    if args.batch_scan:
        print("\nbatched solve, ms per k-point vs batch size")
        for b in (1, 4, 16, 32, 64, 128, 256):
            if b > nk:
                break
            st = [stack_blocks(blocks[i:i + b]) for i in range(0, nk, b)]
            t = best_of(lambda: [transmission_batched(*s) for s in st], args.repeats) / nk * 1e3
            print(f"  B = {b:4d}: {t:8.3f}")
    if args.model_scan:
        model_scan(args.repeats)


def model_scan(repeats: int) -> None:
    """Per-k smatrix vs batched solve for strips of n orbitals (M = 4, B = 64, E = 0.3)."""
    print("\nsquare-lattice strips (complex twisted leads), M = 4, 64 systems: ms per system")
    print("     n    per-k  batched  speed-up")
    rng = np.random.default_rng(0)
    for width in (2, 4, 8, 12, 18, 36):
        bsz = 64
        hl = np.empty((bsz, width, width), complex)
        for b, ph in enumerate(np.linspace(0.1, 6.0, bsz)):
            h, _ = strip_blocks(width)
            h = h.astype(complex)
            if width > 2:
                h[width - 1, 0] += -np.exp(1j * ph)
                h[0, width - 1] += -np.exp(-1j * ph)
            hl[b] = h + 0.05 * b / bsz * np.eye(width)
        vl = np.broadcast_to(-np.eye(width, dtype=complex), hl.shape).copy()
        hs = [hl + np.einsum("bi,ij->bij", rng.uniform(-0.5, 0.5, (bsz, width)), np.eye(width)) for _ in range(4)]
        vs = [vl.copy() for _ in range(5)]
        args = (hl, vl, hs, vs, hl, vl)
        t_k = best_of(lambda: [smatrix(hl[b], vl[b], [x[b] for x in hs], [x[b] for x in vs], hl[b], vl[b], 0.3)
                               for b in range(bsz)], repeats) / bsz * 1e3
        t_b = best_of(lambda: transmission_batched(*args, energy=0.3), repeats) / bsz * 1e3
        print(f"  {width:4d} {t_k:8.3f} {t_b:8.3f}  {t_k / t_b:6.1f}x")


if __name__ == "__main__":
    main()
