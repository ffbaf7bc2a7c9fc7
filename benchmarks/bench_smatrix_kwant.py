"""Scattering matrix of :func:`tbmto.wfm.smatrix` against Kwant + MUMPS on the same blocks.

One lead | slab | lead problem with dense n × n blocks (n = 324: a 3×3 fcc(001)
supercell with 18 spin-orbitals per atom) and M = ``--layers`` slab layers, built with a
seeded :class:`numpy.random.Generator`:

* lead (both leads identical): dense random Hermitian onsite h (``--onsite-scale``) and a
  dense, *full-rank*, well-conditioned complex hopping v = H_{j,j+1} = U s W† (Haar-random
  U, W, singular values s uniform in [½, 1] × ``--hop-scale``; the same construction as
  ``bench_lead_modes_kwant.py``, 34 propagating modes for n = 324 at E = 0, seed 0). A
  dense full-rank v stresses both codes: tbmto's lead solver works on the full 2n × 2n
  pencil, Kwant takes its regular (non SVD-compressed) path.
* slab: h_i = h + dense random Hermitian disorder (``--disorder``, spectral scale as for
  h), all M blocks distinct; couplings v_0 = v_M = v (Kwant couples its leads with the
  lead hopping) and, between slab layers, v_i = v + ``--coupling-disorder`` × dense
  complex Gaussian / √(2n) (default 0: all couplings equal to the lead hopping).

Measured, in the same process and alternating between the two codes (best of
``--repeats``, the machine may be shared):

* ``tbmto``: ``tbmto.wfm.smatrix(h, v, h_slab, v_slab, h, v, energy=E)`` – lead modes and
  self-energies (identical leads are solved once) + block-RGF sweep, full S;
* ``kwant``: ``kwant.solvers.mumps.smatrix(fsys, energy=E)`` on a ``kwant.Builder`` chain
  of M sites with an n-orbital matrix per site (onsite h_i, hopping
  ``syst[lat(i), lat(i+1)] = v_{i+1}``, i.e. H_{i,i+1}: Kwant's ``builder[a, b] = t`` is
  the hopping from b to a) and two attached leads with translational symmetry
  (``lead[lat(0)] = h``, ``lead[lat(0), lat(1)] = v``; the right lead is
  ``lead.reversed()``) – this includes building the sparse matrix, both leads' modes
  (Kwant solves each lead), the MUMPS analysis/factorisation/solve, full S. The
  ``finalized()`` time is reported separately (``t_final``) and is *not* in the ratio.

Before timing, a tiny case (n = 2, M = 3, random couplings between slab layers, so a
hopping-direction error cannot hide behind mirror symmetry) checks the conventions: the
Kwant slab Hamiltonian equals the block-tridiagonal one with H_{i,i+1} = v_{i+1}, the
Kwant lead cell Hamiltonians / inter-cell hoppings are h and v (left lead, whose cells
run to −x) and v† (right lead), and the two S matrices agree per channel (|S_ab| after
matching the modes of each lead by their Bloch factors).

Checks of the big run (each to ``--tol``, default 1e−8, else exit status 1): the number of
channels agrees, |ΔT|/T with T = Tr t†t, the sorted eigenvalues of t†t (max abs diff;
basis independent), and, when no two Bloch factors of a lead are closer than 1e−6,
max |(|S_tbmto| − |S_kwant|)| per channel after matching the modes (phase independent).

Printed: n | M | n_modes | t_tbmto (s) | t_kwant (s) | ratio (kwant / tbmto) | |ΔT|/T,
then T, the eigenvalue and |S| differences, both unitarity errors, t_final, and the BLAS
that the MUMPS library got (a loud warning when it is the reference BLAS).

Kwant is *not* a dependency of tbmto; build it in a separate venv with the sequential
MUMPS of Debian (bookworm; ``libmumps-seq-dev`` pulls in the headers) and, for a fair
comparison, an optimised BLAS for MUMPS (the Debian MUMPS links ``libblas.so.3``, by
default the *reference* BLAS; numpy/scipy wheels bring their own OpenBLAS)::

    apt-get install -y libmumps-seq-dev libopenblas0-serial
    python3.11 -m venv /tmp/kwant-venv
    /tmp/kwant-venv/bin/pip install "numpy<2" "cython<3.1" scipy tinyarray setuptools wheel
    /tmp/kwant-venv/bin/pip download --no-deps --no-binary :all: kwant==1.5.0 -d /tmp/kwant-src
    cd /tmp/kwant-src && tar xzf kwant-1.5.0.tar.gz && cd kwant-1.5.0
    cat > build.conf <<EOF
    [mumps]
    libraries = zmumps_seq mumps_common_seq mpiseq_seq pord_seq gfortran
    include_dirs = /usr/include/mumps_seq
    EOF
    /tmp/kwant-venv/bin/pip install --no-build-isolation --force-reinstall --no-deps .
    PYTHONPATH=/work/main /tmp/kwant-venv/bin/python -c "import kwant.solvers.mumps"

(``build.conf`` is read from the current directory by Kwant's ``setup.py``, hence the
build from the unpacked sdist.) Installing ``libopenblas0-serial`` makes OpenBLAS the
system ``libblas.so.3``/``liblapack.so.3`` through update-alternatives; where the
reference BLAS is kept as the system default, select OpenBLAS for this run only with
``LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-serial``. If ``kwant.solvers.mumps``
does not import, the script falls back to ``kwant.solvers.sparse`` (SciPy SuperLU) and
says so in its output.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-serial \\
        PYTHONPATH=. /tmp/kwant-venv/bin/python benchmarks/bench_smatrix_kwant.py
    OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/kwant-venv/bin/python benchmarks/bench_smatrix_kwant.py \\
        --n 162 --layers 20 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import scipy
from scipy.optimize import linear_sum_assignment

from tbmto.wfm import smatrix

KWANT_HELP = (
    "bench_smatrix_kwant.py needs Kwant (with MUMPS), which is not a tbmto dependency. Build it "
    "in a separate venv (see this script's docstring for the MUMPS build.conf) and run this "
    "script with that interpreter:\n"
    "  apt-get install -y libmumps-seq-dev libopenblas0-serial\n"
    "  python3.11 -m venv /tmp/kwant-venv\n"
    '  /tmp/kwant-venv/bin/pip install "numpy<2" "cython<3.1" scipy tinyarray setuptools wheel\n'
    "  (unpack the kwant 1.5.0 sdist, add build.conf, pip install --no-build-isolation .)\n"
    "  OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/kwant-venv/bin/python benchmarks/bench_smatrix_kwant.py"
)

DEGENERACY_TOL = 1e-6  # Bloch factors closer than this: per-channel |S| is basis dependent


def import_kwant():
    """Return (kwant, solver module, solver name), or exit with build instructions."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "MUMPS is not available" – reported below
            import kwant
    except ImportError as exc:
        raise SystemExit(f"error: Kwant is not importable ({exc}).\n{KWANT_HELP}") from exc
    try:
        import kwant.solvers.mumps as solver
        return kwant, solver, "mumps"
    except ImportError as exc:
        import kwant.solvers.sparse as solver
        print("!" * 88 + f"\n!! kwant.solvers.mumps does not import ({exc});\n"
              "!! FALLING BACK TO kwant.solvers.sparse (SciPy SuperLU): Kwant timings are NOT MUMPS.\n"
              + "!" * 88, flush=True)
        return kwant, solver, "sparse (NO MUMPS)"


def loaded_blas() -> str:
    """Shared BLAS/LAPACK libraries mapped into this process (Linux), for the report."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if line.rstrip().endswith(".so")
                    or ".so." in line.split()[-1]}
    except OSError:
        return "unknown"
    keep = sorted(p for p in libs if os.path.basename(p).startswith(("libblas", "liblapack", "libopenblas", "libmkl"))
                  or "openblas" in os.path.basename(p))
    return ", ".join(keep) or "none found"


def haar_unitary(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)))
    d = np.diag(r)
    return q * (d / np.abs(d))


def random_hermitian(n: int, rng: np.random.Generator, scale: float) -> np.ndarray:
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return (a + a.conj().T) * (scale / np.sqrt(8 * n))


def build_problem(n: int, m: int, rng: np.random.Generator, args) -> tuple:
    """(h, v, h_slab, v_slab): dense lead, M disordered slab blocks, M+1 couplings."""
    h = random_hermitian(n, rng, args.onsite_scale)
    s = args.hop_scale * rng.uniform(0.5, 1.0, size=n)
    v = (haar_unitary(n, rng) * s) @ haar_unitary(n, rng).conj().T
    h_slab = [h + random_hermitian(n, rng, args.disorder) for _ in range(m)]
    v_slab = [v]
    for _ in range(m - 1):
        if args.coupling_disorder:
            g = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
            v_slab.append(v + args.coupling_disorder * g / np.sqrt(2 * n))
        else:
            v_slab.append(v)
    v_slab.append(v)
    return h, v, h_slab, v_slab


def kwant_system(kwant, h, v, h_slab, v_slab):
    """Unfinalized Kwant builder of the chain with both leads attached (see module docstring)."""
    n, m = h.shape[0], len(h_slab)
    lat = kwant.lattice.chain(a=1, norbs=n)
    syst = kwant.Builder()
    for i in range(m):
        syst[lat(i)] = h_slab[i]
    for i in range(m - 1):
        syst[lat(i), lat(i + 1)] = v_slab[i + 1]  # H_{i,i+1} (hopping from i+1 to i)
    lead = kwant.Builder(kwant.TranslationalSymmetry((-1,)))
    lead[lat(0)] = h
    lead[lat(0), lat(1)] = v  # H_{j,j+1} = v, as in tbmto
    syst.attach_lead(lead)
    syst.attach_lead(lead.reversed())
    return syst


def match_modes(lam_ours: np.ndarray, k_kwant: np.ndarray) -> tuple[np.ndarray, float, int]:
    """Permutation p with Kwant mode p[i] ↔ our mode i (by Bloch factor), the mismatch,
    and which frame (+1: λ = e^{ik}, −1: λ = e^{−ik}; Kwant's left lead runs to −x)."""
    best = None
    for sign in (1, -1):
        lam_k = np.exp(1j * sign * k_kwant)
        cost = np.abs(lam_ours[:, None] - lam_k[None, :])
        rows, cols = linear_sum_assignment(cost)
        err = float(cost[rows, cols].max(initial=0.0))
        if best is None or err < best[1]:
            best = (cols, err, sign)
    return best


def min_gap(lam: np.ndarray) -> float:
    if lam.size < 2:
        return np.inf
    d = np.abs(lam[:, None] - lam[None, :])
    return float(d[~np.eye(lam.size, dtype=bool)].min())


def compare(ours, ks, tol_deg: float = DEGENERACY_TOL) -> dict:
    """T, eig(t†t) and per-channel |S| comparison of tbmto's result and Kwant's SMatrix."""
    t_o = ours.t
    t_k = ks.submatrix(1, 0)
    out = dict(n_modes=ours.n_left, n_modes_kwant=(ks.num_propagating(0), ks.num_propagating(1)))
    out["counts_ok"] = (ours.n_left == ks.num_propagating(0) and ours.n_right == ks.num_propagating(1))
    tt_o, tt_k = ours.transmission(), float(ks.transmission(1, 0))
    out.update(T=tt_o, T_kwant=tt_k, dT=abs(tt_o - tt_k) / max(abs(tt_k), 1e-300))
    uk = ks.data
    out["unit_o"] = ours.unitarity_error()
    out["unit_k"] = float(np.max(np.abs(uk.conj().T @ uk - np.eye(uk.shape[0])), initial=0.0))
    out["eig"] = out["S"] = np.nan
    out["frames"] = ""
    if not out["counts_ok"]:
        return out
    e_o = np.sort(np.linalg.eigvalsh(t_o.conj().T @ t_o))
    e_k = np.sort(np.linalg.eigvalsh(t_k.conj().T @ t_k))
    out["eig"] = float(np.max(np.abs(e_o - e_k), initial=0.0))
    # per-channel |S|: rows = outgoing [left, right], columns = incoming [left, right]
    nl, nr = ours.n_left, ours.n_right
    li = ks.lead_info
    # Kwant: first half of each lead's modes incoming, second half outgoing (lead frame)
    sets = [  # (our Bloch factors, Kwant momenta) for in-L, in-R, out-L, out-R
        (ours.left.lam_right, li[0].momenta[:nl]), (ours.right.lam_left, li[1].momenta[:nr]),
        (ours.left.lam_left, li[0].momenta[nl:]), (ours.right.lam_right, li[1].momenta[nr:]),
    ]
    perms, errs, signs, gaps = [], [], [], []
    for lam, k in sets:
        p, err, sign = match_modes(lam, k)
        perms.append(p)
        errs.append(err)
        signs.append(sign)
        gaps.append(min_gap(lam))
    out["lam"] = max(errs)
    out["frames"] = "L:" + ("+" if signs[0] > 0 else "-") + " R:" + ("+" if signs[1] > 0 else "-")
    if min(gaps) < tol_deg or out["lam"] > 1e-6:
        return out  # degenerate or unmatched: per-channel |S| is not defined
    col = np.r_[perms[0], nl + perms[1]]
    row = np.r_[perms[2], nl + perms[3]]
    out["S"] = float(np.max(np.abs(np.abs(ours.S) - np.abs(uk[np.ix_(row, col)])), initial=0.0))
    return out


def convention_check(kwant, solver, rng: np.random.Generator, args) -> list[str]:
    """Tiny n = 2, M = 3 case with random slab couplings: Hamiltonians and S must agree."""
    class A:  # the tiny problem's parameters
        onsite_scale, hop_scale, disorder, coupling_disorder = 0.5, 1.0, 0.5, 0.7
    for _ in range(50):  # a tiny random lead may have no propagating mode at E
        h, v, h_slab, v_slab = build_problem(2, 3, rng, A)
        ours = smatrix(h, v, h_slab, v_slab, h, v, energy=args.energy)
        if ours.n_left > 0:
            break
    fsys = kwant_system(kwant, h, v, h_slab, v_slab).finalized()
    fails = []
    # slab Hamiltonian in Kwant's site order
    order = np.argsort([s.tag[0] for s in fsys.sites])
    hk = fsys.hamiltonian_submatrix()
    n, m = 2, 3
    hk = hk.reshape(m, n, m, n)[np.ix_(order, range(n), order, range(n))].reshape(m * n, m * n)
    ho = np.zeros((m * n, m * n), complex)
    for i in range(m):
        ho[i * n:(i + 1) * n, i * n:(i + 1) * n] = h_slab[i]
    for i in range(m - 1):
        ho[i * n:(i + 1) * n, (i + 1) * n:(i + 2) * n] = v_slab[i + 1]
        ho[(i + 1) * n:(i + 2) * n, i * n:(i + 1) * n] = v_slab[i + 1].conj().T
    if len(fsys.sites) != m or not np.allclose(hk, ho, atol=1e-13, rtol=0):
        fails.append("tiny case: Kwant slab Hamiltonian != block-tridiagonal H with H_{i,i+1} = v_{i+1}")
    left, right = fsys.leads
    # Kwant: H(k) = h_cell + V e^{-ik} + V† e^{ik}, V = hopping from a cell to the next one
    # in the lead's direction: −x for the left lead (V = H_{x-1,x} = v), +x for the right (v†)
    for name, ld, vexp in (("left", left, v), ("right", right, v.conj().T)):
        if not (np.allclose(ld.cell_hamiltonian(), h, atol=1e-13, rtol=0)
                and np.allclose(ld.inter_cell_hopping(), vexp, atol=1e-13, rtol=0)):
            fails.append(f"tiny case: Kwant {name} lead cell/hopping != (h, {'v' if name == 'left' else 'v†'})")
    c = compare(ours, solver.smatrix(fsys, energy=args.energy))
    print(f"convention check n=2 M=3: {ours.n_left} mode(s), T = {c['T']:.12f} (kwant "
          f"{c['T_kwant']:.12f}), |dT|/T = {c['dT']:.1e}, eig diff {c['eig']:.1e}, "
          f"|S| diff {c['S']:.1e}, Bloch-factor match {c.get('lam', np.nan):.1e} "
          f"(Kwant lead frames {c['frames']})", flush=True)
    if not c["counts_ok"]:
        fails.append(f"tiny case: channels {ours.n_left} vs {c['n_modes_kwant']}")
    for key in ("dT", "eig", "S"):
        if not c[key] <= args.tol:
            fails.append(f"tiny case: {key} = {c[key]:.1e} > {args.tol:.0e}")
    return fails


def best_of(repeats: int, funcs: list) -> tuple[list[float], list]:
    """Best-of wall times of several callables, alternating them (fair on a shared machine)."""
    best, out = [np.inf] * len(funcs), [None] * len(funcs)
    for _ in range(repeats):
        for i, f in enumerate(funcs):
            t0 = time.perf_counter()
            out[i] = f()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=324, help="block size (orbitals per layer)")
    p.add_argument("--layers", type=int, default=100, help="number M of slab layers")
    p.add_argument("--repeats", type=int, default=2, help="best-of repeats per timing")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--energy", type=float, default=0.0)
    p.add_argument("--onsite-scale", type=float, default=0.5, help="spectral scale of the lead h")
    p.add_argument("--hop-scale", type=float, default=1.0, help="largest singular value of v")
    p.add_argument("--disorder", type=float, default=0.2,
                   help="spectral scale of the dense Hermitian disorder added to h per slab layer")
    p.add_argument("--coupling-disorder", type=float, default=0.0,
                   help="random dense part of the couplings between slab layers (0: all = v)")
    p.add_argument("--tol", type=float, default=1e-8, help="agreement required of every check")
    args = p.parse_args(argv)
    if args.n < 2 or args.layers < 1:
        raise ValueError(f"need --n >= 2 and --layers >= 1, got {args.n}, {args.layers}")
    args.repeats = max(1, args.repeats)
    kwant, solver, solver_name = import_kwant()
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}  kwant {kwant.__version__} "
          f"solver={solver_name}  numpy {np.__version__}  scipy {scipy.__version__}  E={args.energy}  "
          f"seed={args.seed}  best of {args.repeats}", flush=True)
    print(f"lead: dense h (scale {args.onsite_scale}), dense full-rank v (s in [0.5, 1] x "
          f"{args.hop_scale}); slab: h_i = h + dense Hermitian disorder (scale {args.disorder}); "
          f"couplings: " + ("all = v" if not args.coupling_disorder else
                            f"v_0 = v_M = v, v_i = v + {args.coupling_disorder} x random"), flush=True)
    blas = loaded_blas()
    print(f"BLAS/LAPACK mapped in this process: {blas}", flush=True)
    if solver_name == "mumps" and "/blas/libblas.so" in blas:
        print("!! WARNING: MUMPS is linked to the REFERENCE BLAS (Debian libblas3): Kwant is "
              "handicapped.\n!!   apt-get install libopenblas0-serial, or run with "
              "LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-serial", flush=True)

    rng = np.random.default_rng(args.seed)
    failures = convention_check(kwant, solver, np.random.default_rng([args.seed, 1]), args)

    n, m, e = args.n, args.layers, args.energy
    h, v, h_slab, v_slab = build_problem(n, m, rng, args)
    t0 = time.perf_counter()
    fsys = kwant_system(kwant, h, v, h_slab, v_slab).finalized()
    t_final = time.perf_counter() - t0
    (t_o, t_k), (ours, ks) = best_of(args.repeats, [
        lambda: smatrix(h, v, h_slab, v_slab, h, v, energy=e),
        lambda: solver.smatrix(fsys, energy=e),
    ])
    c = compare(ours, ks)
    modes = f"{c['n_modes']}" if c["counts_ok"] else f"{c['n_modes']}!={c['n_modes_kwant']}"
    print(f"\n{'n':>5} | {'M':>4} | {'n_modes':>7} | {'t_tbmto (s)':>11} | {'t_kwant (s)':>11} | "
          f"{'ratio (kwant/tbmto)':>19} | {'|dT|/T':>8}")
    print(f"{n:>5} | {m:>4} | {modes:>7} | {t_o:>11.3f} | {t_k:>11.3f} | {t_k / t_o:>19.2f} | "
          f"{c['dT']:>8.1e}", flush=True)
    print(f"\nT = Tr t+t = {c['T']:.12f} (tbmto), {c['T_kwant']:.12f} (kwant)\n"
          f"max |eig(t+t) diff| (sorted) = {c['eig']:.1e}\n"
          f"max ||S_ab| diff| per channel = {c['S']:.1e} (Bloch-factor match "
          f"{c.get('lam', np.nan):.1e}, Kwant lead frames {c['frames']})\n"
          f"unitarity max|S+S-1|: tbmto {c['unit_o']:.1e}, kwant {c['unit_k']:.1e}\n"
          f"kwant finalized(): {t_final:.3f} s (not in the ratio); kwant solver: {solver_name}",
          flush=True)
    if not c["counts_ok"]:
        failures.append(f"channels: {c['n_modes']} (tbmto) vs {c['n_modes_kwant']} (Kwant)")
    else:
        for key, what in (("dT", "|dT|/T"), ("eig", "eig(t+t)")):
            if not c[key] <= args.tol:
                failures.append(f"{what} differ by {c[key]:.1e} > {args.tol:.0e}")
        if not np.isnan(c["S"]) and not c["S"] <= args.tol:
            failures.append(f"|S| per channel differs by {c['S']:.1e} > {args.tol:.0e}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
