"""Exact on-site ASA potential function with spin–orbit coupling and a non-collinear exchange field.

This is the ASA analogue of the single-site problem of the fully relativistic KKR-ASA: instead of
the linearised on-site P(E) built from C, Δ, γ and ξ_l (``tbmto.lmto.potential_functions``), the
coupled scalar-relativistic radial equations with exchange and spin–orbit coupling are solved
inside the atomic sphere at the energy E, and the potential function P⁰(E) is obtained from the
logarithmic-derivative matrix at the sphere radius s = w (Andersen & Jepsen, Phys. Rev. Lett. 53,
2571 (1984)).

Units: Rydberg (ħ = 1, 2m = 1, e² = 2), lengths in bohr, energies and potentials in Ry,
c = C_LIGHT_RY = 274.072; P⁰ is dimensionless (s = w).

Equations (Koelling & Harmon, J. Phys. C 10, 3107 (1977), with the spin–orbit term added back).
For one angular momentum l the n = 2(2l + 1) channels are |σ, μ⟩, index (2l + 1)σ + μ, σ = ↑/↓
along the GLOBAL z, μ the real harmonics (s; p_y, p_z, p_x; d_xy, d_yz, d_z², d_xz, d_x²−y²), i.e.
the l-block of the 18-orbital order 9σ + L of :func:`tbmto.lmto.potential_functions.ls_matrix`.
With the sphere potentials V↑, V↓ (spin ↑/↓ along the local moment m),

    V̄ = ½(V↑ + V↓),   B = ½(V↑ − V↓),
    V(r) = V̄(r) 1 + B(r) (m·σ ⊗ 1_μ),                   (along m, spin ↑ sees V↑)
    M(r) = 1 + (E − V(r))/c²  = M̄ 1 − (B/c²) m·σ,       M̄ = 1 + (E − V̄)/c²,
    M⁻¹  = (M̄ 1 + (B/c²) m·σ) / (M̄² − B²/c⁴),
    W(r) = ξ(r; E) (L·S)_l,   ξ(r; E) = 2/(M̄² c²) · (1/r) dV̄/dr,  S = σ/2, L lattice-fixed,

and, for P = r g and Q = r g'/(2M) (n × n, the columns are the n regular solutions), in x = ln r

    dP/dx = P + 2 r M Q,
    dQ/dx = −Q + ½ r [ l(l+1) M⁻¹ / r² + V + W − E ] P.

For W = 0 and m = ẑ these decouple into the scalar equations of :mod:`tbmto.asa.radial` for V↑
and V↓. The equations come from the Hermitian Sturm–Liouville problem
(r² M⁻¹ g')' = r² [l(l+1) M⁻¹/r² + V + W − E] g, so the Wronskian P†Q − Q†P is conserved; it
vanishes for the regular solutions, hence Q P⁻¹ is Hermitian. At r = s the Hermitian
logarithmic-derivative matrix and the unscreened potential function (s = w) are

    D = 2 s M_s^{1/2} (Q P⁻¹) M_s^{1/2}               (= s g'/g for scalar M),
    P⁰ = 2(2l + 1) (D + l + 1)(D − l)⁻¹ = 2(2l + 1) [1 + (2l + 1)(D − l)⁻¹].

Near the nucleus (r ≪ r_c = 2Z/c²) V̄ ≈ −2Z/r, M̄ ≈ 2Z/(c² r), so ξ ≈ c²/(Z r): with the
1/M̄² the spin–orbit term only grows like 1/r, as the centrifugal term l(l+1)/(M̄ r²) ≈
c² l(l+1)/(2Z r) does, and both set the local exponent of P ∝ r^γ_κ in the channel with
L·S = κ (κ = l/2 for j = l + ½, −(l + 1)/2 for j = l − ½):

    γ_κ² = γ² + M̄ r² ξ κ → l(l+1) + 2κ + 1 − (2Z/c)²,   i.e. γ_κ = √(κ_D² − (2Z/c)²),

Dirac's exponent (κ_D = −(l + 1), l), where γ² = l(l+1) + 1 − (2Z/c)² is the scalar one of
:mod:`tbmto.asa.radial`. Without SOC the integration starts as in radial.py (P = r₀^γ 1,
Q = (γ − 1)/(2 r₀) M(r₀)⁻¹ P); with SOC it starts in the local j-channels, P = Σ_κ
(r₀/r_c)^γ_κ Π_κ, Q = Σ_κ (γ_κ − 1)/(2 r₀ M̄) (r₀/r_c)^γ_κ Π_κ (Π_κ the L·S projectors; B(r₀)
is negligible there: |B(r₀)/V̄(r₀)| ~ 10⁻¹¹). The scalar γ would admix the irregular
solution and err by ~(r₀/r_c)^{2γ_κ} in P⁰ (about 10⁻⁸ relative for Pt p_{1/2}, γ_κ ≈ 0.82,
with r₀ = 2·10⁻⁵/Z bohr; the j-channel start is independent of r₀ to 10⁻¹²); and because
j = l − ½ grows like r^l and j = l + ½ like r^{l+1} inside r_c, equal start amplitudes would
leave the columns of P unbalanced by r_c/r₀ ~ 10³. The amplitudes (r₀/r_c)^γ_κ balance them,
which lowers the rounding noise of P⁰ from ~10⁻¹¹ to ~10⁻¹⁴.

Numerics: the same classical RK4 in x as :mod:`tbmto.asa.radial` (coefficients at the mesh points
and at the half steps from cubic splines of r V↑, r V↓ and r ξ), vectorised over a batch of
directions m with stacked matrix products; the θ-derivative for a rotation of m about an axis
(dm/dθ = axis × m) is the exact derivative of that discrete scheme, obtained by integrating the
tangent system d/dx [Y; Ẏ] = [[A, 0], [Ȧ, A]] [Y; Ẏ] with the same steps.
"""

from __future__ import annotations

import numpy as np

from ..lmto.potential_functions import _PAULI, ls_matrix
from .mesh import LogMesh
from .radial import C_LIGHT_RY

__all__ = ["spin_orbit_radial", "exact_potential_function", "exact_onsite_p0",
           "HERMITICITY_TOL"]

HERMITICITY_TOL: float = 1e-6
"""Largest relative anti-Hermitian part ‖D − D†‖_F / ‖D + D†‖_F accepted before symmetrising."""

_RESCALE_AT: float = 1e100


def _inv_c2(c: float) -> float:
    c = float(c)
    if not c > 0.0:
        raise ValueError(f"c must be positive (Ry units, np.inf for non-relativistic), got {c!r}")
    return 0.0 if np.isinf(c) else 1.0 / (c * c)


def _check_energy(energy) -> float:
    e = np.asarray(energy)
    if e.ndim != 0 or np.iscomplexobj(e) or not np.isfinite(e):
        raise ValueError(f"energy must be a finite real scalar (Ry), got {energy!r}")
    return float(e)


def _check_potential(mesh: LogMesh, v, allow_1d: bool) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    ok = v.shape == (2, mesh.n) or (allow_1d and v.shape == (mesh.n,))
    if not ok:
        want = f"(2, {mesh.n})" + (f" or ({mesh.n},)" if allow_1d else "")
        raise ValueError(f"v must have shape {want} (spin potentials in Ry), got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("v must be finite")
    return v


def _check_directions(m, name: str) -> np.ndarray:
    a = np.asarray(m, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != 3 or a.shape[0] == 0:
        raise ValueError(f"{name} must have shape (3,) or (k, 3), got {np.shape(m)}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    norm = np.linalg.norm(a, axis=1)
    if np.any(np.abs(norm - 1.0) > 1e-6):
        raise ValueError(f"{name} must contain unit vectors, got norms {norm}")
    return a / norm[:, None]


def spin_orbit_radial(mesh: LogMesh, v, energy: float, c: float = C_LIGHT_RY) -> np.ndarray:
    """Radial spin–orbit function ξ(r; E) = 2/(M̄(r)² c²) · (1/r) dV̄/dr (Ry).

    M̄ = 1 + (E − V̄)/c² with the spin-averaged potential V̄ = ½(V↑ + V↓); the spin–orbit
    operator is ξ(r; E) L·S with S = σ/2 (Koelling & Harmon, J. Phys. C 10, 3107 (1977)). The
    factor 1/M̄² makes ξ grow only like c²/(Z r) at the nucleus (instead of 4Z/(c² r³)), so
    that r ξ stays finite. The spin–orbit parameter of a radial function φ (P = r φ,
    normalised) is ξ_l = ∫ P² ξ dr, e.g. ``mesh.integrate(p**2 * xi)``.

    Parameters
    ----------
    mesh : LogMesh
        Sphere mesh (bohr).
    v : array_like, shape (2, n) or (n,)
        Spin potentials V↑, V↓ (Ry, including −2Z/r), or directly V̄.
    energy : float
        Energy E (Ry) entering M̄.
    c : float
        Speed of light in Ry units; ``np.inf`` (``radial.NONRELATIVISTIC``) gives ξ = 0.

    Returns
    -------
    numpy.ndarray, shape (n,)
        ξ(r_i; E) in Ry on the mesh points (dV̄/dr from the spline derivative of V̄).
    """
    v = _check_potential(mesh, v, allow_1d=True)
    e = _check_energy(energy)
    ic2 = _inv_c2(c)
    if ic2 == 0.0:
        return np.zeros(mesh.n)
    vbar = v if v.ndim == 1 else 0.5 * (v[0] + v[1])
    mbar = 1.0 + (e - vbar) * ic2
    return 2.0 * ic2 / mbar**2 * mesh.derivative(vbar) / mesh.r


def _spin_kron(spin: np.ndarray, nl: int) -> np.ndarray:
    """(…, 2, 2) spin matrices ⊗ 1_{nl} in the spin-major order (…, 2nl, 2nl)."""
    out = np.einsum("...st,mn->...smtn", spin, np.eye(nl))
    return out.reshape(spin.shape[:-2] + (2 * nl, 2 * nl))


def _ls_block(l: int) -> np.ndarray:
    idx = np.array([9 * s + L for s in range(2) for L in range(l * l, (l + 1) ** 2)])
    return np.asarray(ls_matrix())[np.ix_(idx, idx)]


def _coefficients(r, vbar, bfield, xi, l, e, ic2, msig, ls_l, dmsig):
    """h-independent ODE matrices A = [[1, a], [b, −1]] (npts, k, 2n, 2n) and Ȧ (or None).

    a = 2 r M, b = ½ r [l(l+1) M⁻¹/r² + V + ξ L·S − E], with the spin parts written as
    α 1 + β m·σ (the α, β are per radius, m·σ per direction).
    """
    nl = 2 * l + 1
    n = 2 * nl
    mbar = 1.0 + (e - vbar) * ic2
    beta = -bfield * ic2                       # M = M̄ + β m·σ
    den = mbar**2 - beta**2
    cent = l * (l + 1.0) / r**2
    a0, a1 = 2.0 * r * mbar, 2.0 * r * beta
    b0 = 0.5 * r * (cent * mbar / den + vbar - e)
    b1 = 0.5 * r * (-cent * beta / den + bfield)
    eye2 = np.eye(2)
    shp = (-1, 1, 1, 1)
    a_spin = a0.reshape(shp) * eye2 + a1.reshape(shp) * msig[None]
    b_spin = b0.reshape(shp) * eye2 + b1.reshape(shp) * msig[None]
    amat = np.zeros((r.size, msig.shape[0], 2 * n, 2 * n), dtype=complex)
    amat[..., :n, :n] = np.eye(n)
    amat[..., n:, n:] = -np.eye(n)
    amat[..., :n, n:] = _spin_kron(a_spin, nl)
    amat[..., n:, :n] = _spin_kron(b_spin, nl)
    if xi is not None:
        amat[..., n:, :n] += (0.5 * r * xi).reshape(shp) * ls_l
    if dmsig is None:
        return amat, None
    damat = np.zeros_like(amat)
    damat[..., :n, n:] = _spin_kron(a1.reshape(shp) * dmsig[None], nl)
    damat[..., n:, :n] = _spin_kron(b1.reshape(shp) * dmsig[None], nl)
    return amat, damat


def _hermitian_part(x: np.ndarray, what: str, tol: float) -> np.ndarray:
    anti = np.linalg.norm(x - x.conj().swapaxes(-1, -2), axis=(-2, -1))
    herm = np.linalg.norm(x + x.conj().swapaxes(-1, -2), axis=(-2, -1))
    rel = anti / np.maximum(herm, np.finfo(float).tiny)
    if np.any(rel > tol):
        raise RuntimeError(f"{what} is not Hermitian: relative anti-Hermitian part "
                           f"{float(rel.max()):.3e} > {tol:.1e} (integration failed)")
    return 0.5 * (x + x.conj().swapaxes(-1, -2))


def _solve_block(mesh: LogMesh, v: np.ndarray, l: int, e: float, m: np.ndarray, c: float,
                 soc: bool, axis: np.ndarray | None, herm_tol: float):
    """Core of :func:`exact_potential_function` on validated input; returns (P⁰, Ṗ⁰ or None)."""
    ic2 = _inv_c2(c)
    nl = 2 * l + 1
    n = 2 * nl
    k = m.shape[0]
    r, rm = mesh.r, mesh.r_mid
    vbar = 0.5 * (v[0] + v[1])
    bfield = 0.5 * (v[0] - v[1])
    vmid = mesh.at_mid(v * r) / rm
    vbar_m = 0.5 * (vmid[0] + vmid[1])
    bfield_m = 0.5 * (vmid[0] - vmid[1])
    if soc and ic2 > 0.0:
        xi = spin_orbit_radial(mesh, v, e, c)
        xi_m = mesh.at_mid(xi * r) / rm
        ls_l = _ls_block(l)
    else:
        xi = xi_m = ls_l = None
    msig = np.einsum("ka,ast->kst", m, _PAULI)
    dmsig = None
    if axis is not None:
        dmsig = np.einsum("ka,ast->kst", np.cross(axis, m), _PAULI)
    h = mesh.h
    ag, dag = _coefficients(r, vbar, bfield, xi, l, e, ic2, msig, ls_l, dmsig)
    am, dam = _coefficients(rm, vbar_m, bfield_m, xi_m, l, e, ic2, msig, ls_l, dmsig)
    ag *= h
    am *= h
    if dmsig is not None:
        dag *= h
        dam *= h

    # regular start at r₀ (module docstring): without SOC as radial.py, P = r₀^γ 1,
    # Q = (γ − 1)/(2 r₀) M(r₀)⁻¹ P; with SOC per j = l ± ½ channel (L·S = κ), the local
    # exponent γ_κ² = γ² + M̄ r₀² ξ(r₀) κ (→ Dirac's) and amplitudes (r₀/r_c)^γ_κ. The
    # SOC start neglects B(r₀) (|B/V̄| ~ 1e-11 at r₀) and is therefore θ-independent.
    r0 = r[0]
    z = max(-0.5 * r0 * vbar[0], 0.0)
    gam = np.sqrt(max(l * (l + 1.0) + 1.0 - (2.0 * z) ** 2 * ic2, 1e-6)) if ic2 else l + 1.0
    mb0 = 1.0 + (e - vbar[0]) * ic2
    be0 = -bfield[0] * ic2
    ncol = n if dmsig is None else 2 * n
    y = np.zeros((k, 2 * n, ncol), dtype=complex)
    if xi is None:
        minv0 = (mb0 * np.eye(2) - be0 * msig) / (mb0**2 - be0**2)
        p_start = r0**gam
        y[:, :n, :n] = p_start * np.eye(n)
        y[:, n:, :n] = (gam - 1.0) / (2.0 * r0) * p_start * _spin_kron(minv0, nl)
        if dmsig is not None:
            y[:, n:, n:] = (gam - 1.0) / (2.0 * r0) * p_start * _spin_kron(
                -be0 / (mb0**2 - be0**2) * dmsig, nl)
    else:
        r_c = max(2.0 * z * ic2, r0)
        proj_up = (ls_l + 0.5 * (l + 1) * np.eye(n)) / (l + 0.5)   # onto L·S = l/2
        for kap, proj in ((0.5 * l, proj_up), (-0.5 * (l + 1), np.eye(n) - proj_up)):
            if l == 0 and kap < 0:
                continue
            g_k = np.sqrt(max(gam**2 + mb0 * r0**2 * xi[0] * kap, 1e-6))
            amp = (r0 / r_c) ** g_k
            y[:, :n, :n] += amp * proj
            y[:, n:, :n] += amp * (g_k - 1.0) / (2.0 * r0 * mb0) * proj

    def f(a_h, da_h, yy):
        out = a_h @ yy
        if da_h is not None:
            out[..., n:] += da_h @ yy[..., :n]
        return out

    for i in range(mesh.n - 1):
        a0, a_m, a1 = ag[i], am[i], ag[i + 1]
        d0 = dm_ = d1 = None
        if dmsig is not None:
            d0, dm_, d1 = dag[i], dam[i], dag[i + 1]
        k1 = f(a0, d0, y)
        k2 = f(a_m, dm_, y + 0.5 * k1)
        k3 = f(a_m, dm_, y + 0.5 * k2)
        k4 = f(a1, d1, y + k3)
        y = y + (k1 + 2.0 * (k2 + k3) + k4) * (1.0 / 6.0)
        if i % 16 == 15:
            big = np.abs(y).max()
            if big > _RESCALE_AT:
                y = y * (1.0 / big)
    if not np.all(np.isfinite(y)):
        raise RuntimeError("radial integration overflowed")

    p, q = y[:, :n, :n], y[:, n:, :n]
    # X = Q P⁻¹ via Pᵀ Xᵀ = Qᵀ
    x = np.linalg.solve(p.swapaxes(-1, -2), q.swapaxes(-1, -2)).swapaxes(-1, -2)
    s = r[-1]
    mbs = 1.0 + (e - vbar[-1]) * ic2
    bes = -bfield[-1] * ic2
    if not (mbs - abs(bes) > 0.0):
        raise ValueError(f"M(s) = 1 + (E − V(s))/c² is not positive at E = {e} Ry")
    sp, sm = np.sqrt(mbs + bes), np.sqrt(mbs - bes)
    alpha, beta = 0.5 * (sp + sm), 0.5 * (sp - sm)          # M_s^{1/2} = α + β m·σ
    sqm = _spin_kron(alpha * np.eye(2) + beta * msig, nl)
    dmat = _hermitian_part(2.0 * s * sqm @ x @ sqm, "D = 2s M^½ Q P⁻¹ M^½", herm_tol)
    rinv = np.linalg.inv(dmat - l * np.eye(n))
    rinv = 0.5 * (rinv + rinv.conj().swapaxes(-1, -2))
    pref = 2.0 * (2 * l + 1)
    p0 = pref * (np.eye(n) + (2 * l + 1) * rinv)
    if dmsig is None:
        return p0, None
    dp, dq = y[:, :n, n:], y[:, n:, n:]
    dx = np.linalg.solve(p.swapaxes(-1, -2),
                         (dq - x @ dp).swapaxes(-1, -2)).swapaxes(-1, -2)
    dsqm = _spin_kron(beta * dmsig, nl)
    dd = 2.0 * s * (dsqm @ x @ sqm + sqm @ dx @ sqm + sqm @ x @ dsqm)
    dd = 0.5 * (dd + dd.conj().swapaxes(-1, -2))
    dp0 = -pref * (2 * l + 1) * rinv @ dd @ rinv
    return p0, 0.5 * (dp0 + dp0.conj().swapaxes(-1, -2))


def _validated(mesh, v, energy, m, axis, c, herm_tol):
    v = _check_potential(mesh, v, allow_1d=False)
    e = _check_energy(energy)
    _inv_c2(c)
    mm = _check_directions(m, "m")
    ax = None
    if axis is not None:
        ax = _check_directions(axis, "axis")
        if ax.shape[0] not in (1, mm.shape[0]):
            raise ValueError(f"axis must have shape (3,) or ({mm.shape[0]}, 3), "
                             f"got {np.shape(axis)}")
        ax = np.broadcast_to(ax, mm.shape)
    if not (np.isfinite(herm_tol) and herm_tol > 0):
        raise ValueError(f"herm_tol must be a positive number, got {herm_tol!r}")
    return v, e, mm, ax


def exact_potential_function(mesh: LogMesh, v, l: int, energy: float, m, c: float = C_LIGHT_RY,
                             soc: bool = True, axis=None, herm_tol: float = HERMITICITY_TOL):
    """Exact unscreened ASA potential-function matrix P⁰_l(E) with exchange and spin–orbit.

    Solves the coupled scalar-relativistic radial equations (Koelling & Harmon, J. Phys. C 10,
    3107 (1977)) for the n = 2(2l + 1) channels |σ, μ⟩ of one l inside the sphere,

        dP/dx = P + 2 r M Q,   dQ/dx = −Q + ½ r [l(l+1) M⁻¹/r² + V + ξ(r; E) L·S − E] P,

    x = ln r, V = V̄ + B m·σ, M = 1 + (E − V)/c², and returns, with the Hermitian
    logarithmic-derivative matrix D = 2 s M_s^{1/2} Q P⁻¹ M_s^{1/2} at s = ``mesh.r[-1]``,

        P⁰ = 2(2l + 1)(D + l + 1)(D − l)⁻¹

    (Andersen & Jepsen, Phys. Rev. Lett. 53, 2571 (1984); s = w). This is the ASA analogue of
    the single-site problem of the fully relativistic KKR-ASA; see the module docstring for all
    definitions. For ``soc=False`` and m = ẑ it is diag(P⁰_↑ 1, P⁰_↓ 1) with the scalar
    P⁰_σ = 2(2l+1)(D_σ + l + 1)/(D_σ − l) of :func:`tbmto.asa.parameters.potential_function_exact`.

    Parameters
    ----------
    mesh : LogMesh
        Sphere mesh in bohr; the last point is the sphere radius s = w.
    v : array_like, shape (2, n_mesh)
        Spin potentials V↑, V↓ (Ry, including −2Z/r), spin ↑/↓ along the local moment m.
    l : int
        Angular momentum, 0, 1 or 2.
    energy : float
        Real energy E (Ry).
    m : array_like, shape (3,) or (k, 3)
        Unit magnetisation direction(s) in the lattice frame.
    c : float
        Speed of light (Ry units); ``np.inf`` for the non-relativistic problem (then M = 1,
        ξ = 0).
    soc : bool
        Include the spin–orbit term ξ(r; E) L·S.
    axis : array_like, shape (3,) or (k, 3), optional
        Unit rotation axis (per direction or common). If given, ∂P⁰/∂θ at θ = 0 for m → R_axis(θ)
        m (dm/dθ = axis × m; L·S stays in the lattice frame) is returned as well, the exact
        derivative of the discretised radial problem (tangent system, including the θ-dependence
        of M, M⁻¹, V and M_s^{1/2}).
    herm_tol : float
        Largest relative anti-Hermitian part ‖D − D†‖_F/‖D + D†‖_F of the computed D accepted
        before it is Hermitised (a larger one raises ``RuntimeError``).

    Returns
    -------
    p0 : numpy.ndarray, shape (k, 2(2l+1), 2(2l+1)), complex
        P⁰_l(E) (dimensionless, Hermitian), index (2l + 1)σ + μ, σ along the global z, μ in the
        real-harmonic order; k = 1 for m of shape (3,).
    dp0 : numpy.ndarray, same shape, complex
        ∂P⁰/∂θ (per radian, Hermitian); only when ``axis`` is given, as ``(p0, dp0)``.

    Raises
    ------
    ValueError
        For l not in 0..2, a badly shaped or non-finite v, a non-finite or complex energy,
        non-unit m or axis, or M(s) not positive.
    RuntimeError
        If the integration overflows or D comes out non-Hermitian beyond ``herm_tol``.
    """
    if isinstance(l, bool) or not isinstance(l, (int, np.integer)) or not 0 <= int(l) <= 2:
        raise ValueError(f"l must be an integer 0, 1 or 2, got {l!r}")
    v, e, mm, ax = _validated(mesh, v, energy, m, axis, c, herm_tol)
    p0, dp0 = _solve_block(mesh, v, int(l), e, mm, c, soc, ax, herm_tol)
    return p0 if axis is None else (p0, dp0)


def exact_onsite_p0(mesh: LogMesh, v, energy: float, m, c: float = C_LIGHT_RY, soc: bool = True,
                    axis=None, herm_tol: float = HERMITICITY_TOL):
    """Full on-site P⁰(E) (18 × 18, block diagonal in l) from the exact coupled radial problem.

    The s, p and d blocks of :func:`exact_potential_function` (each 2(2l + 1) × 2(2l + 1), index
    (2l + 1)σ + μ) are placed at the spin-orbital indices 9σ + L of
    :func:`tbmto.lmto.potential_functions.ls_matrix` (spin-major, σ along the global z,
    L = s, p_y, p_z, p_x, d_xy, d_yz, d_z², d_xz, d_x²−y²). Equations, references (Koelling &
    Harmon 1977; Andersen & Jepsen 1984) and units as in :func:`exact_potential_function`; P⁰ is
    dimensionless, energies in Ry, lengths in bohr. This is the ASA analogue of the single-site
    matrix of the fully relativistic KKR-ASA (block diagonal in l because the sphere potential
    is spherical).

    Parameters
    ----------
    mesh : LogMesh
        Sphere mesh (bohr), last point s = w.
    v : array_like, shape (2, n_mesh)
        Spin potentials V↑, V↓ (Ry) along the local moment.
    energy : float
        Real energy (Ry).
    m : array_like, shape (3,) or (k, 3)
        Unit magnetisation directions.
    c : float
        Speed of light (Ry units).
    soc : bool
        Include ξ(r; E) L·S.
    axis : array_like, shape (3,) or (k, 3), optional
        Rotation axis for ∂P⁰/∂θ (dm/dθ = axis × m).
    herm_tol : float
        As in :func:`exact_potential_function`.

    Returns
    -------
    p0 : numpy.ndarray, shape (k, 18, 18), complex
        Hermitian P⁰(E), zero between different l.
    dp0 : numpy.ndarray, shape (k, 18, 18), complex
        ∂P⁰/∂θ (per radian); only when ``axis`` is given, as ``(p0, dp0)``.
    """
    v, e, mm, ax = _validated(mesh, v, energy, m, axis, c, herm_tol)
    k = mm.shape[0]
    p0 = np.zeros((k, 18, 18), dtype=complex)
    dp0 = np.zeros((k, 18, 18), dtype=complex) if ax is not None else None
    for l in range(3):
        idx = np.array([9 * s + L for s in range(2) for L in range(l * l, (l + 1) ** 2)])
        blk, dblk = _solve_block(mesh, v, l, e, mm, c, soc, ax, herm_tol)
        p0[:, idx[:, None], idx[None, :]] = blk
        if ax is not None:
            dp0[:, idx[:, None], idx[None, :]] = dblk
    return p0 if ax is None else (p0, dp0)
