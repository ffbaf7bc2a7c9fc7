"""Free-atom LSDA self-consistency: configurations, core states, starting densities.

Spherical atom, fractional occupations within an (n, l) shell (spherical average), spin
occupations by Hund's first rule (majority spin filled first). The potential is
V_σ(r) = −2Z/r + V_H(r) + v_xc,σ(r) (Rydberg), V_H(r) = 2 [q(r)/r + ∫_r^∞ 4π r' n(r') dr'],
with PW92 LSDA (:mod:`tbmto.asa.xc`). The first potential is the Thomas–Fermi potential in
Latter's analytic fit, r V = −2 max(Z φ_TF(r/b), 1), b = 0.8853 Z^{−1/3} (Latter, Phys. Rev. 99,
510 (1955)); the ``max(…, 1)`` keeps the −2/r tail of the neutral atom. Anderson mixing of the
potential converges the loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..materials import atomic_number
from .mesh import LogMesh, log_mesh
from .radial import C_LIGHT_RY, bound_states, norm_density
from .xc import lsda_xc

_AUFBAU = ["1s", "2s", "2p", "3s", "3p", "4s", "3d", "4p", "5s", "4d", "5p", "6s", "4f", "5d",
           "6p", "7s"]
_LNAME = {"s": 0, "p": 1, "d": 2, "f": 3}
# ground-state exceptions to the Madelung rule: symbol -> {shell: occupation}
_EXCEPTIONS: dict[str, dict[str, float]] = {
    "Cr": {"3d": 5, "4s": 1}, "Cu": {"3d": 10, "4s": 1}, "Nb": {"4d": 4, "5s": 1},
    "Mo": {"4d": 5, "5s": 1}, "Ru": {"4d": 7, "5s": 1}, "Rh": {"4d": 8, "5s": 1},
    "Pd": {"4d": 10, "5s": 0}, "Ag": {"4d": 10, "5s": 1}, "La": {"4f": 0, "5d": 1, "6s": 2},
    "Pt": {"5d": 9, "6s": 1}, "Au": {"5d": 10, "6s": 1},
}


def configuration(symbol: str) -> dict[tuple[int, int], float]:
    """Ground-state configuration {(n, l): occupation} (Madelung order plus known exceptions)."""
    z = atomic_number(symbol)
    left = z
    conf: dict[tuple[int, int], float] = {}
    for shell in _AUFBAU:
        if left <= 0:
            break
        nq, lq = int(shell[0]), _LNAME[shell[1]]
        occ = min(left, 2 * (2 * lq + 1))
        conf[(nq, lq)] = float(occ)
        left -= occ
    if symbol in _EXCEPTIONS:
        for shell, occ in _EXCEPTIONS[symbol].items():
            conf[(int(shell[0]), _LNAME[shell[1]])] = float(occ)
        # shells emptied by an exception are removed; the electron count is preserved
        conf = {k: v for k, v in conf.items() if v > 0}
    if abs(sum(conf.values()) - z) > 1e-9:
        raise ValueError(f"configuration of {symbol!r} does not hold Z = {z} electrons")
    return conf


def valence_channels(symbol: str) -> tuple[int, int, int]:
    """Principal quantum numbers (n_s, n_p, n_d) of the s, p, d valence channels of the solid.

    n_s = n_p = the period of the element; n_d = n_s − 1 from the fourth period on, else 3.
    Every occupied shell of the free atom that is not one of these is treated as a frozen core.
    """
    z = atomic_number(symbol)
    ns = 1 + sum(z > zc for zc in (2, 10, 18, 36, 54, 86))  # period of the element
    nd = ns - 1 if ns >= 4 else 3
    return ns, ns, nd


def core_shells(symbol: str) -> dict[tuple[int, int], float]:
    """Frozen-core shells {(n, l): occupation} of ``symbol`` (all but the s, p, d valence)."""
    ns, np_, nd = valence_channels(symbol)
    val = {(ns, 0), (np_, 1), (nd, 2)}
    return {k: v for k, v in configuration(symbol).items() if k not in val}


def _spin_split(occ: float, l: int, polarised: bool) -> tuple[float, float]:
    if not polarised:
        return occ / 2.0, occ / 2.0
    cap = 2 * l + 1
    up = min(occ, cap)
    return up, occ - up


def thomas_fermi_potential(r: np.ndarray, z: int) -> np.ndarray:
    """Latter's fit of the Thomas–Fermi atom potential with a −2/r tail (Ry)."""
    b = 0.8853 * z ** (-1.0 / 3.0)
    x = r / b
    sx = np.sqrt(x)
    phi = 1.0 / (1.0 + 0.02747 * sx + 1.243 * x - 0.1486 * x * sx + 0.2302 * x**2
                 + 0.007298 * x**2 * sx + 0.006944 * x**3)
    return -2.0 * np.maximum(z * phi, 1.0) / r


def hartree_potential(mesh: LogMesh, n_total: np.ndarray) -> np.ndarray:
    """V_H(r) = 2 [q(r)/r + ∫_r^R 4π r' n dr'] (Ry) for a spherical density n (e/bohr³)."""
    q = mesh.cumulative(4.0 * np.pi * mesh.r**2 * n_total)
    outer = mesh.cumulative(4.0 * np.pi * mesh.r * n_total)
    return 2.0 * (q / mesh.r + (outer[..., -1:] - outer))


@dataclass
class FreeAtom:
    """Self-consistent LSDA free atom.

    Attributes
    ----------
    symbol : str
    z : int
    mesh : LogMesh
    shells : list of (n, l)
    occupations : ndarray (nshell, 2)
        Electrons per shell and spin (↑, ↓).
    energies : ndarray (nshell, 2)
        Eigenvalues (Ry).
    p : ndarray (nshell, 2, n_mesh)
        Normalised P = r g per shell and spin.
    density : ndarray (2, n_mesh)
        Spin densities (e/bohr³).
    core_density : ndarray (n_mesh,)
        Density of the frozen-core shells, both spins (e/bohr³).
    valence_density : ndarray (n_mesh,)
        Density of the s, p, d valence shells, both spins (e/bohr³).
    potential : ndarray (2, n_mesh)
        Self-consistent V_σ (Ry).
    iterations : int
    converged : bool
    """

    symbol: str
    z: int
    mesh: LogMesh
    shells: list
    occupations: np.ndarray
    energies: np.ndarray
    p: np.ndarray
    density: np.ndarray
    core_density: np.ndarray
    valence_density: np.ndarray
    potential: np.ndarray
    iterations: int
    converged: bool
    core: dict = field(default_factory=dict)

    def eigenvalue(self, shell: str, spin: int = 0) -> float:
        """Eigenvalue (Ry) of a shell such as ``"3d"`` for spin 0 (↑) or 1 (↓)."""
        key = (int(shell[0]), _LNAME[shell[1]])
        return float(self.energies[self.shells.index(key), spin])


_ATOM_CACHE: dict = {}
TAIL_ITERATIONS = 4
"""Atom iterations during which the input potential is capped by the −2/r tail."""


def free_atom(symbol: str, *, polarised: bool = True, c: float = C_LIGHT_RY,
              n_mesh: int = 1400, r_max: float = 60.0, tol: float = 1e-8,
              max_iter: int = 300) -> FreeAtom:
    """Self-consistent LSDA free atom (cached per argument set).

    Parameters
    ----------
    symbol : str
        Element symbol.
    polarised : bool
        Spin-polarised (Hund's rule) occupations; otherwise non-magnetic LDA.
    c : float
        Speed of light (Ry units); ``radial.NONRELATIVISTIC`` for Schrödinger.
    n_mesh, r_max : int, float
        Log mesh of n_mesh points from 2·10⁻⁵/Z to r_max (bohr).
    tol : float
        Convergence of the eigenvalues (Ry).
    max_iter : int

    Returns
    -------
    FreeAtom

    Raises
    ------
    RuntimeError
        If the self-consistency does not converge.
    """
    key = (symbol, polarised, float(c), n_mesh, r_max, tol)
    if key in _ATOM_CACHE:
        return _ATOM_CACHE[key]
    z = atomic_number(symbol)
    mesh = log_mesh(r_max, n_mesh, 2e-5 / z)
    conf = configuration(symbol)
    shells = sorted(conf, key=lambda k: (k[0], k[1]))
    occ = np.array([_spin_split(conf[s], s[1], polarised) for s in shells])
    nq = np.array([s[0] for s in shells])
    lq = np.array([s[1] for s in shells])
    core = core_shells(symbol)
    is_core = np.array([s in core for s in shells])
    v_in = np.tile(thomas_fermi_potential(mesh.r, z), (2, 1))
    e = np.tile(np.clip(-((z / nq) ** 2), None, -0.1), (2, 1)).T.astype(float)
    hist_v: list[np.ndarray] = []
    hist_f: list[np.ndarray] = []
    converged = False
    e_old = e.copy()
    it = 0
    for it in range(1, max_iter + 1):
        ns = len(shells)
        vb = np.concatenate([np.tile(v_in[0], (ns, 1)), np.tile(v_in[1], (ns, 1))])
        bs = bound_states(mesh, vb, np.concatenate([nq, nq]), np.concatenate([lq, lq]), c,
                          e_guess=np.concatenate([e[:, 0], e[:, 1]]))
        e = np.stack([bs.energy[:ns], bs.energy[ns:]], axis=1)
        pp = np.stack([bs.p[:ns], bs.p[ns:]], axis=1)
        qq = np.stack([bs.q[:ns], bs.q[ns:]], axis=1)
        rho = norm_density(pp, qq, c) / (4.0 * np.pi * mesh.r**2)
        dens = np.einsum("is,isr->sr", occ, rho)
        vh = hartree_potential(mesh, dens.sum(axis=0))
        _, vxu, vxd = lsda_xc(dens[0], dens[1])
        v_out = -2.0 * z / mesh.r + vh + np.stack([vxu, vxd])
        resid = (v_out - v_in) * mesh.r  # r·ΔV: bounded at the nucleus
        if it > 3 and np.max(np.abs(e - e_old)) < tol and np.max(np.abs(resid)) < 1e-5:
            converged = True
            v_in = v_out
            break
        e_old = e.copy()
        v_in = _anderson(v_in, resid / mesh.r, hist_v, hist_f, beta=0.3 if it > 2 else 0.1)
        if it <= TAIL_ITERATIONS:
            # keep a −2/r tail in the first iterations so that the outer shells stay bound
            v_in = np.minimum(v_in, -2.0 / mesh.r)
    core_dens = np.einsum("is,isr->r", occ[is_core], rho[is_core]) if is_core.any() else 0 * mesh.r
    val_dens = np.einsum("is,isr->r", occ[~is_core], rho[~is_core])
    atom = FreeAtom(symbol=symbol, z=z, mesh=mesh, shells=shells, occupations=occ, energies=e,
                    p=pp, density=dens, core_density=core_dens, valence_density=val_dens,
                    potential=v_in,
                    iterations=it, converged=converged, core=core)
    if not converged:
        raise RuntimeError(f"free-atom LSDA for {symbol} did not converge in {max_iter} iterations")
    _ATOM_CACHE[key] = atom
    return atom


def _anderson(x_in: np.ndarray, f: np.ndarray, hist_x: list, hist_f: list, beta: float,
              depth: int = 6) -> np.ndarray:
    """One Anderson-mixing step for the fixed-point problem x = x + f(x).

    x_new = x̄ + β f̄ with x̄ = x − Σ θ_j Δx_j, f̄ = f − Σ θ_j Δf_j, θ from least squares on the
    history of differences (Anderson, J. ACM 12, 547 (1965)).
    """
    hist_x.append(x_in.ravel().copy())
    hist_f.append(f.ravel().copy())
    if len(hist_x) > depth + 1:
        hist_x.pop(0)
        hist_f.pop(0)
    xv, fv = x_in.ravel(), f.ravel()
    if len(hist_x) >= 2:
        dx = np.diff(np.array(hist_x), axis=0)
        df = np.diff(np.array(hist_f), axis=0)
        theta, *_ = np.linalg.lstsq(df.T, fv, rcond=None)
        xbar = xv - theta @ dx
        fbar = fv - theta @ df
    else:
        xbar, fbar = xv, fv
    return (xbar + beta * fbar).reshape(x_in.shape)
