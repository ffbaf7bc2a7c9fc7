"""Potential parameters C, Δ, γ of the orthogonal LMTO representation and SOC ξ_l.

For a sphere of radius s (= w, the average Wigner–Seitz radius) and linearisation energies E_ν
(per l and spin) the radial equation is solved at E_ν + kδ, k = −2 … 2, each solution φ(E)
normalised in the sphere (large + small component). With g(E) = φ(E, s) and the logarithmic
derivative D(E),

    N(E) = g (D + l + 1),   M(E) = g (D − l),   P⁰(E) = 2(2l + 1) N / M,

and five-point derivatives at E_ν (Andersen, Jepsen & Šob, Springer Lecture Notes in
Physics 283 (1987))

    C = E_ν − N/Ṅ,   Δ = (M − Ṁ N/Ṅ) / (2(2l+1) Ṅ),   γ = Ṁ / (2(2l+1) Ṅ),

so that P⁰(E) ≈ (E − C)/(Δ + γ (E − C)) to second order about E_ν (N linear in E vanishes at C).
The energy derivatives φ̇, φ̈ are the same five-point derivatives of the normalised functions,
hence ⟨φ|φ̇⟩ = 0 and ⟨φ|φ̈⟩ = −⟨φ̇|φ̇⟩. Spin–orbit: H_so = ξ_l L·S with S = σ/2 and
ξ_l = (2/c²) ∫ φ_l² (1/r) dV/dr r² dr (Rydberg units, c = 274.072).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mesh import LogMesh
from .radial import C_LIGHT_RY, integrate_outward, norm_density

ENERGY_STEP_RY: float = 0.005
"""Finite-difference step δ for the energy derivatives (Ry)."""

_STENCIL = np.array([-2, -1, 0, 1, 2])
_D1 = np.array([1.0, -8.0, 0.0, 8.0, -1.0]) / 12.0
_D2 = np.array([-1.0, 16.0, -30.0, 16.0, -1.0]) / 12.0


@dataclass
class RadialSet:
    """Normalised φ, φ̇, φ̈ per (spin, l) at E_ν on a sphere mesh.

    Arrays of shape (2, 3, n_mesh): the large components P = r φ (and the small-component
    counterparts Q scaled to r f = 2Q/c), and their first and second energy derivatives.
    """

    p: np.ndarray
    pdot: np.ndarray
    pddot: np.ndarray
    f: np.ndarray
    fdot: np.ndarray
    fddot: np.ndarray


@dataclass
class PotentialParameters:
    """Second-order potential parameters per spin (↑, ↓) and l (s, p, d), shape (2, 3).

    Attributes
    ----------
    e_nu : ndarray
        Linearisation energies E_ν (Ry).
    C : ndarray
        Band centres (Ry).
    delta : ndarray
        Band-width parameters Δ (Ry); √Δ is ``np.sqrt(delta)``.
    gamma : ndarray
        Orthogonal-representation screening constants γ (dimensionless).
    D : ndarray
        Logarithmic derivatives D(E_ν) at s.
    phi_s : ndarray
        φ(E_ν, s) of the normalised radial function (bohr^{-3/2}).
    p_dot2 : ndarray
        ⟨φ̇|φ̇⟩ (Ry⁻²).
    xi : ndarray
        Spin–orbit parameters ξ_l (Ry) per spin; ξ_s = 0.
    radial : RadialSet
    """

    e_nu: np.ndarray
    C: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    D: np.ndarray
    phi_s: np.ndarray
    p_dot2: np.ndarray
    xi: np.ndarray
    radial: RadialSet

    @property
    def sqrt_delta(self) -> np.ndarray:
        """√Δ (Ry^½)."""
        return np.sqrt(self.delta)


def spin_orbit_integrals(mesh: LogMesh, v: np.ndarray, params: PotentialParameters,
                         c: float = C_LIGHT_RY) -> tuple[np.ndarray, np.ndarray]:
    """Radial SOC integrals ξ_l^σ = ⟨φ_lσ|ξ|φ_lσ⟩ and ⟨φ_lσ|ξ|φ̇_lσ⟩ at the parameters' E_ν.

    ξ(r; E) = 2/(M̄² c²) (1/r) dV̄/dr with the spin-averaged potential V̄ = ½(V↑ + V↓) and
    M̄ = 1 + (E − V̄)/c² (:func:`tbmto.asa.coupled.spin_orbit_radial`), the radial factor of
    the spin–orbit operator ξ(r) L·S of the scalar-relativistic Hamiltonian (Koelling & Harmon,
    J. Phys. C 10, 3107 (1977)). The same ξ(r) enters the exact on-site solution
    (:func:`tbmto.asa.coupled.exact_onsite_p0`), so that the parameter forms of the SOC and the
    exact solution agree to first order in ξ. φ̇ is the energy derivative orthogonal to φ
    (⟨φ|φ̇⟩ = 0, large components).

    Parameters
    ----------
    mesh : LogMesh
        Sphere mesh (bohr).
    v : ndarray (2, n)
        Spin potentials (Ry).
    params : PotentialParameters
        Result of :func:`potential_parameters` for ``v``.
    c : float
        Speed of light (Ry units).

    Returns
    -------
    xi, xi_dot : ndarray (2, 3)
        ⟨φ|ξ|φ⟩ (Ry) and ⟨φ|ξ|φ̇⟩ (dimensionless: Ry × Ry⁻¹) per spin and l; s entries are 0.
    """
    from .coupled import spin_orbit_radial

    xi = np.zeros((2, 3))
    xi_dot = np.zeros((2, 3))
    rad = params.radial
    for s_ in range(2):
        for l in (1, 2):
            xr = spin_orbit_radial(mesh, v, float(params.e_nu[s_, l]), c)
            xi[s_, l] = mesh.integrate(rad.p[s_, l] ** 2 * xr)
            xi_dot[s_, l] = mesh.integrate(rad.p[s_, l] * rad.pdot[s_, l] * xr)
    return xi, xi_dot


def _solutions(mesh: LogMesh, v: np.ndarray, energies: np.ndarray, c: float):
    """Normalised (P, small = 2Q/c) and D at s for v (2, n), energies (2, 3, k)."""
    ns, nl, nk = energies.shape
    ls = np.broadcast_to(np.arange(nl)[None, :, None], energies.shape).ravel()
    vs = np.repeat(v, nl * nk, axis=0)
    p, q, _ = integrate_outward(mesh, vs, ls, energies.ravel(), c)
    norm = mesh.integrate(norm_density(p, q, c))
    p = p / np.sqrt(norm)[:, None]
    q = q / np.sqrt(norm)[:, None]
    s = mesh.r[-1]
    m_s = 1.0 + (energies.ravel() - vs[:, -1]) / c**2 if np.isfinite(c) else 1.0
    dlog = 2.0 * m_s * s * q[:, -1] / p[:, -1]
    small = 2.0 * q / c if np.isfinite(c) else np.zeros_like(q)
    shape = (ns, nl, nk)
    return (p.reshape(shape + (-1,)), small.reshape(shape + (-1,)), dlog.reshape(shape),
            (p[:, -1] / s).reshape(shape))


def phi_and_logderivative(mesh: LogMesh, v: np.ndarray, l: int, energies, c: float = C_LIGHT_RY):
    """Normalised φ(E, s) and D(E) at the sphere radius for a list of energies.

    Parameters
    ----------
    mesh : LogMesh
        Sphere mesh (last point = s).
    v : ndarray (n,)
        Potential (Ry).
    l : int
    energies : array_like
        Energies (Ry).
    c : float

    Returns
    -------
    phi_s, D : ndarray
    """
    e = np.atleast_1d(np.asarray(energies, float))
    v = np.asarray(v, float)
    p, q, _ = integrate_outward(mesh, v, np.full(e.size, l), e, c)
    norm = mesh.integrate(norm_density(p, q, c))
    p = p / np.sqrt(norm)[:, None]
    q = q / np.sqrt(norm)[:, None]
    s = mesh.r[-1]
    m_s = 1.0 + (e - v[-1]) / c**2 if np.isfinite(c) else 1.0
    return p[:, -1] / s, 2.0 * m_s * s * q[:, -1] / p[:, -1]


def potential_function_exact(D, l: int):
    """Unscreened potential function P⁰(E) = 2(2l+1)(D + l + 1)/(D − l) (s = w)."""
    D = np.asarray(D, float)
    return 2.0 * (2 * l + 1) * (D + l + 1.0) / (D - l)


def potential_parameters(mesh: LogMesh, v: np.ndarray, e_nu: np.ndarray,
                         c: float = C_LIGHT_RY,
                         step: float = ENERGY_STEP_RY) -> PotentialParameters:
    """C, Δ, γ, ξ and the radial functions at E_ν for both spins and l = 0, 1, 2.

    Parameters
    ----------
    mesh : LogMesh
        Sphere mesh whose last point is the sphere radius s = w (bohr).
    v : ndarray, shape (2, n)
        Spin potentials V_σ(r) (Ry), electrostatic zero of the sphere boundary convention.
    e_nu : ndarray, shape (2, 3)
        Linearisation energies (Ry).
    c : float
        Speed of light (Ry units).
    step : float
        Energy step δ (Ry) of the five-point derivatives.

    Returns
    -------
    PotentialParameters
    """
    v = np.asarray(v, float)
    e_nu = np.asarray(e_nu, float)
    if v.shape != (2, mesh.n):
        raise ValueError(f"v must have shape (2, {mesh.n}), got {v.shape}")
    if e_nu.shape != (2, 3) or not np.all(np.isfinite(e_nu)):
        raise ValueError(f"e_nu must be a finite (2, 3) array, got {e_nu.shape}")
    energies = e_nu[..., None] + step * _STENCIL
    p, f, dlog, g = _solutions(mesh, v, energies, c)
    l = np.arange(3)[None, :, None]
    n_fun = g * (dlog + l + 1.0)
    m_fun = g * (dlog - l)
    n0, m0 = n_fun[..., 2], m_fun[..., 2]
    nd = n_fun @ _D1 / step
    md = m_fun @ _D1 / step
    l2 = 2.0 * (2.0 * np.arange(3)[None, :] + 1.0)
    C = e_nu - n0 / nd
    delta = (m0 - md * n0 / nd) / (l2 * nd)
    gamma = md / (l2 * nd)
    p0 = p[..., 2, :]
    pdot = np.einsum("slkr,k->slr", p, _D1) / step
    pddot = np.einsum("slkr,k->slr", p, _D2) / step**2
    f0 = f[..., 2, :]
    fdot = np.einsum("slkr,k->slr", f, _D1) / step
    fddot = np.einsum("slkr,k->slr", f, _D2) / step**2
    p_dot2 = mesh.integrate(pdot**2 + fdot**2)
    dvdr = mesh.derivative(v)
    if np.isfinite(c):
        xi = 2.0 / c**2 * mesh.integrate(p0**2 * (dvdr / mesh.r)[:, None, :])
    else:
        xi = np.zeros((2, 3))
    xi[:, 0] = 0.0
    return PotentialParameters(
        e_nu=e_nu.copy(), C=C, delta=delta, gamma=gamma, D=dlog[..., 2], phi_s=g[..., 2],
        p_dot2=p_dot2, xi=xi,
        radial=RadialSet(p=p0, pdot=pdot, pddot=pddot, f=f0, fdot=fdot, fddot=fddot),
    )
