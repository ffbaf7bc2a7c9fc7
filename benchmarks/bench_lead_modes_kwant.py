"""Lead modes of :func:`tbmto.wfm.lead_modes` against Kwant's ``kwant.physics.leads.modes``.

For block sizes n (324, 648: 3×3 fcc(001) supercells with 18 spin-orbitals per atom and
one or two atomic layers per principal layer) the script builds dense, full-rank random
leads with a seeded :class:`numpy.random.Generator` – a random Hermitian onsite block h
(spectral radius ≈ ``--onsite-scale``) and a dense complex hopping v = H_{j,j+1} = U s W†
(Haar-random U, W, singular values s uniform in [½, 1] × ``--hop-scale``, so v is well
conditioned and Kwant takes its regular, non-SVD-compressed path) – scaled so that a
good number of modes propagate at the energy E (default 0: 34 for n = 324 and 45 for
n = 648 with seed 0). It then times, in the same process and alternating between the
two codes, best-of ``--repeats`` of

* ``tbmto``: :func:`tbmto.wfm.lead_modes` (h, v, E) – modes *and* both self-energies,
* ``kwant``: ``kwant.physics.leads.modes(h − E, v†)`` – propagating modes and the
  stabilised (propagating + evanescent) basis that Kwant's solvers use.

Conventions: Kwant's band structure is H(k) = h_cell + h_hop e^{−ik} + h_hop† e^{ik}
(``kwant.physics.Bands``), i.e. h_hop is the hopping *from* a cell to the next one,
H_{j+1,j}; tbmto's v is H_{j,j+1}, so h_hop = v†. With this mapping Kwant's momentum k
of a mode equals arg λ of ours (λ = e^{ik}, ψ_j = λ^j u), positive velocity means moving
towards larger j in both codes, and both velocities are dE/dk (ħ = 1, cell length 1)
of current-normalised modes (|J| = 1, so velocity = 1/|u|²).

Checks (each to ``--tol``, default 1e−8, else the script exits non-zero):

* the number of right- (and left-) going propagating modes agrees,
* the sorted velocities agree (relative to the largest |velocity|), and so do the
  Bloch factors λ = e^{ik} after matching,
* the modes agree up to the only freedom they have – a unitary mixing inside a group of
  degenerate Bloch factors (a phase for a non-degenerate mode): for every group G the
  Procrustes residual min_R ‖U_tbmto[:, G] R − U_kwant[:, G]‖_F / ‖U_kwant[:, G]‖_F over
  unitary R (R = polar factor of U_tbmto† U_kwant) is reported as ``mode diff``,
* the orthogonal projectors onto the span of all right-going (and all left-going)
  propagating modes agree, ‖P_tbmto − P_kwant‖₂ (basis independent; ``proj diff``).

Printed per n: n | n_prop | t_tbmto (s) | t_kwant (s) | ratio (tbmto / kwant) | max
velocity diff (relative) | mode diff | proj diff.

Kwant is *not* a dependency of tbmto; build it in a separate virtual environment that
is used only for this benchmark (it compiles, a few minutes)::

    python3.11 -m venv /tmp/kwant-venv
    /tmp/kwant-venv/bin/pip install "numpy<2" "cython<3.1" scipy tinyarray setuptools wheel
    /tmp/kwant-venv/bin/pip install --no-build-isolation kwant==1.5.0

``tbmto.wfm`` needs only numpy and scipy, so the repository is used in place.

Usage::

    OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/kwant-venv/bin/python benchmarks/bench_lead_modes_kwant.py
    PYTHONPATH=. /tmp/kwant-venv/bin/python benchmarks/bench_lead_modes_kwant.py --sizes 324 648 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import scipy
import scipy.linalg as sla

from tbmto.wfm import lead_modes

KWANT_HELP = (
    "bench_lead_modes_kwant.py needs Kwant, which is not a tbmto dependency. Build it in a "
    "separate venv and run this script with that interpreter:\n"
    "  python3.11 -m venv /tmp/kwant-venv\n"
    '  /tmp/kwant-venv/bin/pip install "numpy<2" "cython<3.1" scipy tinyarray setuptools wheel\n'
    "  /tmp/kwant-venv/bin/pip install --no-build-isolation kwant==1.5.0\n"
    "  OMP_NUM_THREADS=1 PYTHONPATH=. /tmp/kwant-venv/bin/python benchmarks/bench_lead_modes_kwant.py"
)


def import_kwant_modes():
    """Return ``kwant.physics.leads.modes`` and Kwant's version, or exit with instructions."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "MUMPS is not available" – irrelevant here
            import kwant
            from kwant.physics.leads import modes
    except ImportError as exc:
        raise SystemExit(f"error: Kwant is not importable ({exc}).\n{KWANT_HELP}") from exc
    return modes, kwant.__version__


def haar_unitary(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)))
    d = np.diag(r)
    return q * (d / np.abs(d))


def random_lead(n: int, rng: np.random.Generator, onsite_scale: float,
                hop_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Dense Hermitian h (spectral radius ≈ onsite_scale) and full-rank dense hopping v."""
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    h = (a + a.conj().T) * (onsite_scale / np.sqrt(8 * n))
    s = hop_scale * rng.uniform(0.5, 1.0, size=n)
    v = (haar_unitary(n, rng) * s) @ haar_unitary(n, rng).conj().T
    return h, v


def best_of(repeats: int, funcs: list) -> tuple[list[float], list]:
    """Best-of wall times of several callables, alternating them (fair on a shared machine)."""
    best, out = [np.inf] * len(funcs), [None] * len(funcs)
    for _ in range(repeats):
        for i, f in enumerate(funcs):
            t0 = time.perf_counter()
            out[i] = f()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best, out


def _groups(lam: np.ndarray, tol: float) -> list[np.ndarray]:
    """Indices of Bloch factors grouped into degenerate clusters (transitive, |Δλ| < tol)."""
    order = np.argsort(np.angle(lam), kind="stable")
    groups: list[list[int]] = []
    for i in order:
        if groups and np.min(np.abs(lam[groups[-1]] - lam[i])) < tol:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    if len(groups) > 1 and np.min(np.abs(lam[groups[0]][:, None] - lam[groups[-1]][None, :])) < tol:
        groups[0] = groups.pop() + groups[0]
    return [np.asarray(g) for g in groups]


def _projector(u: np.ndarray) -> np.ndarray:
    q = sla.qr(u, mode="economic")[0] if u.shape[1] else u
    return q @ q.conj().T


def compare(lam_t, u_t, vel_t, lam_k, u_k, vel_k, deg_tol: float = 1e-6) -> dict:
    """Basis-independent comparison of one direction's propagating modes of both codes."""
    out = dict(count=(len(lam_t), len(lam_k)), vel=np.nan, lam=np.nan, mode=np.nan, proj=np.nan)
    if len(lam_t) != len(lam_k):
        return out
    if len(lam_t) == 0:
        return dict(out, vel=0.0, lam=0.0, mode=0.0, proj=0.0)
    vscale = np.max(np.abs(vel_k))
    out["vel"] = float(np.max(np.abs(np.sort(vel_t) - np.sort(vel_k))) / vscale)
    # match modes through the Bloch factors (groups of the combined set)
    lam_all = np.r_[lam_t, lam_k]
    n_t = len(lam_t)
    lam_err, mode_err = 0.0, 0.0
    for g in _groups(lam_all, deg_tol):
        gt, gk = g[g < n_t], g[g >= n_t] - n_t
        if len(gt) != len(gk):
            return dict(out, lam=np.inf, mode=np.inf, proj=np.inf, vel=out["vel"])
        lam_err = max(lam_err, float(np.max(np.abs(lam_t[gt][:, None] - lam_k[gk][None, :]))))
        a, b = u_t[:, gt], u_k[:, gk]
        w, _, vh = np.linalg.svd(a.conj().T @ b)
        r = w @ vh  # unitary R minimising ‖a R − b‖_F (orthogonal Procrustes)
        mode_err = max(mode_err, float(np.linalg.norm(a @ r - b) / np.linalg.norm(b)))
    out["lam"], out["mode"] = lam_err, mode_err
    out["proj"] = float(np.linalg.norm(_projector(u_t) - _projector(u_k), 2))
    return out


def run(n: int, rng: np.random.Generator, args, kwant_modes) -> dict:
    h, v = random_lead(n, rng, args.onsite_scale, args.hop_scale)
    e = args.energy
    h_cell, h_hop = h - e * np.eye(n), v.conj().T  # Kwant: h_hop = H_{j+1,j} = v†
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        (t_t, t_k), (ours, (prop, _stab)) = best_of(
            args.repeats, [lambda: lead_modes(h, v, e), lambda: kwant_modes(h_cell, h_hop)])
    nk = len(prop.velocities) // 2
    lam_k = np.exp(1j * prop.momenta)
    # Kwant orders the negative-velocity (incoming) modes first
    right = compare(ours.lam_right, ours.u_right, ours.vel_right,
                    lam_k[nk:], prop.wave_functions[:, nk:], prop.velocities[nk:])
    left = compare(ours.lam_left, ours.u_left, ours.vel_left,
                   lam_k[:nk], prop.wave_functions[:, :nk], prop.velocities[:nk])
    row = dict(n=n, n_prop=ours.n_modes, n_prop_kwant=nk, t_tbmto=t_t, t_kwant=t_k, ratio=t_t / t_k)
    for key in ("vel", "lam", "mode", "proj"):
        row[key] = max(right[key], left[key])
    row["counts_ok"] = right["count"][0] == right["count"][1] and left["count"][0] == left["count"][1]
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[324, 648])
    p.add_argument("--repeats", type=int, default=3, help="best-of repeats per timing")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--energy", type=float, default=0.0)
    p.add_argument("--onsite-scale", type=float, default=0.5, help="spectral radius of h")
    p.add_argument("--hop-scale", type=float, default=1.0, help="largest singular value of v")
    p.add_argument("--tol", type=float, default=1e-8, help="agreement required of every check")
    args = p.parse_args(argv)
    if any(x < 2 for x in args.sizes):
        raise ValueError(f"--sizes values must be >= 2, got {args.sizes}")
    args.repeats = max(1, args.repeats)
    kwant_modes, kwant_version = import_kwant_modes()
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}  kwant {kwant_version}  "
          f"numpy {np.__version__}  scipy {scipy.__version__}  E={args.energy}  seed={args.seed}  "
          f"best of {args.repeats}", flush=True)
    print(f"{'n':>5} | {'n_prop':>6} | {'t_tbmto (s)':>11} | {'t_kwant (s)':>11} | {'ratio':>5} | "
          f"{'max vel diff':>12} | {'mode diff':>9} | {'proj diff':>9}", flush=True)
    rng = np.random.default_rng(args.seed)
    failures = []
    for n in args.sizes:
        r = run(n, rng, args, kwant_modes)
        n_prop = f"{r['n_prop']}" if r["counts_ok"] else f"{r['n_prop']}≠{r['n_prop_kwant']}"
        print(f"{n:>5} | {n_prop:>6} | {r['t_tbmto']:>11.3f} | {r['t_kwant']:>11.3f} | {r['ratio']:>5.2f} | "
              f"{r['vel']:>12.1e} | {r['mode']:>9.1e} | {r['proj']:>9.1e}", flush=True)
        if not r["counts_ok"]:
            failures.append(f"n={n}: {r['n_prop']} propagating modes (tbmto) vs {r['n_prop_kwant']} (Kwant)")
        for key, what in (("vel", "velocities"), ("lam", "Bloch factors"), ("mode", "modes"),
                          ("proj", "propagating subspaces")):
            if r["counts_ok"] and not r[key] <= args.tol:
                failures.append(f"n={n}: {what} differ by {r[key]:.1e} > {args.tol:.0e}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
