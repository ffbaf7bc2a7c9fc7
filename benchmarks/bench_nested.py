"""Nested lengths: one sweep for all L against one calculation per length.

For a permalloy (Ni80Fe20 at 3.548 Å, Cu leads, [001]) configuration built once for the
longest length with ``nested_lengths`` (:func:`tbmto.structure.build_stack`), times in one run

* ``independent``: :func:`tbmto.transport.compute` on every ``truncate(atoms, L)`` (what a
  study without nesting does: one job per length, S^α pairs included, and — as the workflow
  does by default — lead modes shared between the jobs through a fresh disk lead-mode cache;
  ``--no-lead-cache`` solves them in every job),
* ``nested``: one :func:`tbmto.transport.compute` with ``lengths=...``,

for G only and with the damping tensor, reports core-seconds (single-threaded BLAS, one
process: wall = core time), their ratio, the largest relative difference between the two
(G, T_xx, T_yy must agree to ~1e−10), and the peak resident memory of each variant (measured
in a fresh child process so that one variant's peak does not hide the other's).

Potentials: ``--potentials DIR`` with ``Ni0.8Fe0.2_fcc_a3.5480.json`` and ``Cu_fcc_a3.5480.json``
from ``tbmto scf`` (as the default study writes them); generated into DIR when missing
(a few minutes).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_nested.py --supercell 2 2 --kmesh 2 2
    OMP_NUM_THREADS=1 python benchmarks/bench_nested.py --supercell 4 4 --kmesh 1 1 --lengths 48 72 96
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import time


A_PY = 3.548
FILES = {"Ni0.8Fe0.2_fcc": "Ni=0.8,Fe=0.2", "Cu_fcc": "Cu"}


def ensure_potentials(pot_dir: str) -> list[str]:
    """Paths of the Py and Cu potentials files, running ``tbmto scf`` for a missing one."""
    os.makedirs(pot_dir, exist_ok=True)
    paths = []
    for stem, composition in FILES.items():
        path = os.path.join(pot_dir, f"{stem}_a{A_PY:.4f}.json")
        if not os.path.exists(path):
            cmd = ["tbmto", "scf", "--composition", composition, "--a", f"{A_PY}", "--out", path,
                   "--no-progress"]
            print("running", " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
        paths.append(path)
    return paths


def _variant(queue, name, args, pot_paths):
    from tbmto.potentials import load
    from tbmto.structure import build_stack, truncate
    from tbmto.transport import compute

    pots = load(*pot_paths)
    lengths = tuple(args.lengths)
    atoms = build_stack("001", tuple(args.supercell), layers=lengths[-1], lattice_constant=A_PY,
                        composition={"Ni": 0.8, "Fe": 0.2}, seed=2024, config=0,
                        magnetization=(0.0, 0.0, 1.0), nested_lengths=lengths, system="NiFe_x0.2000")
    import tempfile

    kw = dict(kmesh=tuple(args.kmesh), soc=True, damping=args.damping, progress=False)
    if args.lead_cache:
        kw["lead_cache"] = tempfile.mkdtemp(prefix="tbmto-bench-leads-")
    t0 = time.process_time()
    w0 = time.perf_counter()
    if name == "nested":
        res = compute(atoms, pots, lengths=lengths, **kw)
    else:
        res = [compute(truncate(atoms, L), pots, **kw) for L in lengths]
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    rows = [dict(L=r.slab_layers, G=r.G_e2h, Txx=r.damping_T, Tyy=r.damping_T_yy,
                 pairs_s=r.timings["salpha_pairs_s"], loop_s=r.timings["k_loop_s"]) for r in res]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    queue.put(dict(name=name, cpu_s=cpu, wall_s=wall, peak_mb=peak_mb, rows=rows))


def measure(name, args, pot_paths) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_variant, args=(q, name, args, pot_paths))
    p.start()
    out = q.get()
    p.join()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--supercell", type=int, nargs=2, default=[2, 2])
    ap.add_argument("--kmesh", type=int, nargs=2, default=[2, 2])
    ap.add_argument("--lengths", type=int, nargs="+", default=[48, 72, 96, 120, 144, 168, 192])
    ap.add_argument("--potentials", default="/tmp/tbmto-bench-potentials")
    ap.add_argument("--lead-cache", action=argparse.BooleanOptionalAction, default=True,
                    help="share lead modes between the jobs of a variant through a disk cache (default on)")
    ap.add_argument("--json", help="append the result as one JSON line to this file")
    args = ap.parse_args(argv)
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: set OMP_NUM_THREADS=1 so that wall time = core time", file=sys.stderr)
    pot_paths = ensure_potentials(args.potentials)
    print(f"permalloy {args.supercell[0]}x{args.supercell[1]}, k {args.kmesh[0]}x{args.kmesh[1]}, "
          f"lengths {args.lengths} (sum {sum(args.lengths)} layers, ideal ratio "
          f"{sum(args.lengths) / args.lengths[-1]:.2f})")
    print(f"{'observable':>10} {'variant':>12} {'core-s':>8} {'peak MB':>8} {'ratio':>6} {'max rel diff':>12}")
    table = []
    for damping in (False, True):
        args.damping = damping
        ind = measure("independent", args, pot_paths)
        nes = measure("nested", args, pot_paths)
        keys = ("G", "Txx", "Tyy") if damping else ("G",)
        diff = max(abs(a[k] / b[k] - 1) for a, b in zip(nes["rows"], ind["rows"]) for k in keys)
        ratio = ind["cpu_s"] / nes["cpu_s"]
        label = "G+damping" if damping else "G only"
        for v in (ind, nes):
            print(f"{label:>10} {v['name']:>12} {v['cpu_s']:8.1f} {v['peak_mb']:8.0f} "
                  f"{(ratio if v is nes else 1.0):6.2f} {(diff if v is nes else 0.0):12.1e}")
        table.append(dict(observable=label, independent_s=ind["cpu_s"], nested_s=nes["cpu_s"], ratio=ratio,
                          peak_mb_independent=ind["peak_mb"], peak_mb_nested=nes["peak_mb"], max_rel_diff=diff))
    if args.json:
        with open(args.json, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(dict(supercell=args.supercell, kmesh=args.kmesh, lengths=args.lengths,
                                     lead_cache=args.lead_cache, results=table)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
