"""Single-site coherent potential approximation (CPA) in the screened TB-LMTO-ASA formalism.

Random substitutional alloys with any number of components Q (concentrations c_Q) on one fcc
or bcc lattice (Turek, Drchal, Kudrnovský, Šob & Weinberger, *Electronic Structure of
Disordered Alloys, Surfaces and Interfaces*, Kluwer (1997), Ch. 3–4). Units: Ry; S^α and the
potential functions on the average Wigner–Seitz radius w (dimensionless).

Potential functions (three-parameter form, exact for the second-order Hamiltonian
H = C + √Δ S^γ √Δ that the supercell band program diagonalises), per species Q, spin σ and l:

    P^α_Q(z) = (z − C) / [Δ + (γ − α)(z − C)],   Ṗ = Δ / [Δ + (γ − α)(z − C)]²,
    λ_Q(z) = −P̈ / (2Ṗ) = (γ − α) / [Δ + (γ − α)(z − C)],

α = :data:`tbmto.lmto.structure_constants.SCREENING_ALPHA`. The ordered lattice has cubic point
symmetry, so every site-diagonal matrix below is diagonal in the real harmonics and constant
within the irreducible representations s, p (t₁u), d-t₂g (xy, yz, xz), d-e_g (z², x²−y²): the
coherent potential function 𝒫_ι(z) has four values per spin.

* auxiliary Green's function, the Brillouin-zone integral (Turek et al. Eq. 4.12)

      g_ι(z) = (1/N) Σ_k [(𝒫(z) − S^α(k))⁻¹]_ιι,   averaged over the ι components;

* species-resolved (single-site) Green's functions and the CPA condition (Eqs. 4.14–4.16)

      Ω = 𝒫 − g⁻¹ (coherent interactor),   g_Q = (P_Q − Ω)⁻¹,   Σ_Q c_Q g_Q = g;

  iterated as 𝒫 ← Ω + (Σ_Q c_Q g_Q)⁻¹ until |Σ c_Q g_Q − g| < ``tol`` |g|;
* physical species Green's function and the l-resolved, Fermi–Dirac weighted DOS moments about
  E_ν (the same occupations f((E − μ)/kT) as the band program of the supercell model)

      G_Qι(z) = λ_Q(z) + Ṗ_Q(z) g_Qι(z),   F_p(z) = (z − E_ν)^p Σ_{ι ∈ l} d_ι G_Qσι(z),
      m_p(Q σ l) = −(1/π) Im [ ∫_{E_b}^{E_b+iY} f F_p dz + ∫_{E_b}^{∞} f(x) F_p(x + iY) dx
                               − 2πi kT Σ_{n<N_p} F_p(μ + i(2n+1)πkT) ],   p = 0, 1, 2,

  d_ι the irrep dimension, E_b below the band bottom, Y = 2N_p πkT between the Matsubara poles
  N_p − 1 and N_p of f, where f(x + iY) = f(x) is real (the strip 0 < Im z < Y is closed at
  +∞; the pole terms are the residues of f). This is exact for any smearing; the closest energy
  to the real axis is the first Matsubara point, Im z = πkT. μ is fixed by
  Σ_Q c_Q Σ_σl m₀ = N_valence (secant steps; only the pole terms and the weights f(x) change
  with μ).

Brillouin-zone sums use the point symmetry of the lattice (:func:`cubic_kpoints`): a centred
uniform grid on the cube of side 4π/a (a period of the reciprocal lattice of fcc and bcc, two
and four zones) is invariant under O_h, and the irrep traces Tr_ι[(𝒫 − S^α(k))⁻¹] are equal on
a star (S^α(Rk) = D(R) S^α(k) D(R)ᵀ with D block-orthogonal on every irrep), so only one k per
star is kept, with the star's weight.

An ordered limit (one species, or species with equal parameters) reduces the CPA to the band
k-sum: g = (1/N) Σ_k (P − S^α(k))⁻¹ and G = Σ_n |u_n|² / (z − ε_n) with the eigenpairs of H
(tested). Electrostatics are single-site: no Madelung term between the spheres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import PhysicsError
from ..lmto.structure_constants import SCREENING_ALPHA

__all__ = [
    "IRREPS",
    "IRREP_L",
    "IRREP_DIM",
    "CPASettings",
    "potential_functions",
    "auxiliary_gf",
    "solve_cpa",
    "species_gf",
    "fermi",
    "fermi_contour",
    "pole_points",
    "cubic_kpoints",
    "CPABands",
]

IRREPS: tuple[tuple[int, ...], ...] = ((0,), (1, 2, 3), (4, 5, 7), (6, 8))
"""Real-harmonic indices (s; p_y, p_z, p_x; d_xy, d_yz, d_z², d_xz, d_x²−y²) of the cubic
irreps s, p, t₂g, e_g."""
IRREP_L = np.array([0, 1, 2, 2])
"""l of each irrep."""
IRREP_DIM = np.array([1.0, 3.0, 3.0, 2.0])
"""Dimension of each irrep."""
_IRREP_OF_L9 = np.array([0, 1, 1, 1, 2, 2, 3, 2, 3])
_ALPHA = np.asarray(SCREENING_ALPHA, dtype=float)


@dataclass(frozen=True)
class CPASettings:
    """Numerical settings of the CPA band program.

    Attributes
    ----------
    n_poles : int
        Matsubara poles N_p below the horizontal line Im z = 2N_p πkT.
    n_vertical, n_line, n_step : int
        Gauss–Legendre points on the vertical segment at E_b, on the line from E_b to
        μ − 10 kT, and on the Fermi step μ − 10 kT … μ + 30 kT of the line.
    tol : float
        Relative CPA-condition residual |Σ c_Q g_Q − g| / |g| at every contour point.
    max_iter : int
        Most CPA iterations per energy point.
    fermi_tol : float
        Electrons: |N(μ) − N_valence| after the secant steps.
    bottom_margin_Ry : float
        The contour starts this far below the lowest band edge of the pure species (Ry).
    """

    n_poles: int = 4
    n_vertical: int = 8
    n_line: int = 40
    n_step: int = 48
    tol: float = 1e-10
    max_iter: int = 300
    fermi_tol: float = 1e-8
    bottom_margin_Ry: float = 0.1

    @property
    def n_points(self) -> int:
        """Energy points of one contour (without the pole terms)."""
        return self.n_vertical + self.n_line + self.n_step


def potential_functions(z: np.ndarray, C: np.ndarray, delta: np.ndarray, gamma: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P^α(z), Ṗ^α(z) and λ(z) = −P̈/(2Ṗ) of the three-parameter form.

    Parameters
    ----------
    z : ndarray (nz,)
        Complex energies (Ry).
    C, delta, gamma : ndarray (..., 3)
        Band centres (Ry), Δ (Ry) and γ per l (any leading shape, e.g. (nQ, 2)).

    Returns
    -------
    P, Pdot, lam : ndarray (nz, ..., 3)
    """
    z = np.asarray(z, dtype=complex).reshape((-1,) + (1,) * np.ndim(C))
    x = z - C
    d = delta + (gamma - _ALPHA) * x
    return x / d, delta / d**2, (gamma - _ALPHA) / d


def auxiliary_gf(p_irrep: np.ndarray, salpha_k: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """g_ι = Σ_k w_k [(𝒫 − S^α(k))⁻¹]_ιι averaged over the components of each irrep.

    Parameters
    ----------
    p_irrep : ndarray (..., 4)
        Coherent (or species) potential function per irrep.
    salpha_k : ndarray (nk, 9, 9)
        S^α(k) on a mesh symmetric under the cubic point group (or reduced by time reversal).
    weights : ndarray (nk,)
        k weights, Σ = 1.

    Returns
    -------
    ndarray (..., 4)
    """
    lead = p_irrep.shape[:-1]
    flat = p_irrep.reshape(-1, 4)
    out = np.empty_like(flat, dtype=complex)
    eye_idx = np.arange(9)
    for i, p in enumerate(flat):
        m = -salpha_k.astype(complex)
        m[:, eye_idx, eye_idx] += p[_IRREP_OF_L9]
        diag = np.einsum("k,kll->l", weights, np.linalg.inv(m))
        out[i] = [diag[list(ir)].mean() for ir in IRREPS]
    return out.reshape(lead + (4,))


def solve_cpa(p_species: np.ndarray, conc: np.ndarray, salpha_k: np.ndarray, weights: np.ndarray,
              p_start: np.ndarray | None = None, tol: float = 1e-10, max_iter: int = 300
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Coherent potential functions satisfying Σ_Q c_Q g_Q = g at every energy point.

    Parameters
    ----------
    p_species : ndarray (nQ, npt, 4)
        Species potential functions per irrep at ``npt`` energy points (any fixed spin).
    conc : ndarray (nQ,)
        Concentrations, Σ = 1.
    salpha_k, weights :
        As in :func:`auxiliary_gf`.
    p_start : ndarray (npt, 4), optional
        Starting 𝒫 (default: the concentration average of P_Q, the virtual crystal).
    tol, max_iter :
        Relative residual |Σ c g_Q − g|/|g| and most iterations.

    Returns
    -------
    p_coh : ndarray (npt, 4)
    g : ndarray (npt, 4)
        Auxiliary Green's function of ``p_coh``.
    g_species : ndarray (nQ, npt, 4)
        g_Q = (P_Q − Ω)⁻¹.
    iterations : int

    Raises
    ------
    tbmto.errors.PhysicsError
        If the residual stays above ``tol`` after ``max_iter`` iterations.
    """
    conc = np.asarray(conc, dtype=float)
    p = np.einsum("q,qni->ni", conc, p_species) if p_start is None else np.array(p_start, dtype=complex)
    active = np.ones(p.shape[0], bool)
    g = np.empty_like(p)
    g_q = np.empty_like(p_species, dtype=complex)
    res = np.inf
    for it in range(1, max_iter + 1):
        g[active] = auxiliary_gf(p[active], salpha_k, weights)
        omega = p[active] - 1.0 / g[active]
        g_q[:, active] = 1.0 / (p_species[:, active] - omega[None])
        gbar = np.einsum("q,qni->ni", conc, g_q[:, active])
        r = np.max(np.abs(gbar - g[active]) / np.abs(g[active]), axis=1)
        p[active] = omega + 1.0 / gbar
        idx = np.flatnonzero(active)
        active[idx[r < tol]] = False
        res = float(r.max())
        if not active.any():
            g[:] = auxiliary_gf(p, salpha_k, weights)
            omega = p - 1.0 / g
            g_q[:] = 1.0 / (p_species - omega[None])
            return p, g, g_q, it
    raise PhysicsError(f"CPA condition not met after {max_iter} iterations (largest relative "
                       f"residual {res:.1e} > {tol:.0e}); raise CPASettings.max_iter or the "
                       "contour's distance from the real axis (n_contour)")


def species_gf(z: np.ndarray, params: dict, g_species: np.ndarray) -> np.ndarray:
    """Physical species Green's functions per l, G_Ql = Σ_{ι∈l} d_ι (λ_Ql + Ṗ_Ql g_Qι).

    Parameters
    ----------
    z : ndarray (nz,)
    params : dict
        ``C``, ``delta``, ``gamma`` of shape (nQ, 3) for one spin.
    g_species : ndarray (nQ, nz, 4)

    Returns
    -------
    ndarray (nQ, nz, 3)
    """
    _, pdot, lam = potential_functions(z, params["C"], params["delta"], params["gamma"])
    pdot = np.moveaxis(pdot, 0, 1)[..., IRREP_L]      # (nQ, nz, 4)
    lam = np.moveaxis(lam, 0, 1)[..., IRREP_L]
    per_irrep = IRREP_DIM * (lam + pdot * g_species)
    out = np.zeros(per_irrep.shape[:-1] + (3,), dtype=complex)
    for i, lq in enumerate(IRREP_L):
        out[..., lq] += per_irrep[..., i]
    return out


def cubic_kpoints(lattice: str, a: float, kmesh: int) -> tuple[np.ndarray, np.ndarray]:
    """Irreducible k-points (Cartesian, 1/Å) and weights of a centred O_h-symmetric grid.

    The grid has n points per direction on the cube of side 4π/a, k_i = (4π/a)[(i + ½)/n − ½],
    with n the even number nearest kmesh·(V_cube/V_BZ)^{1/3} (V_cube/V_BZ = 2 for fcc, 4 for
    bcc), i.e. about the k density of a kmesh³ mesh in the primitive zone. One point per O_h
    star (key: the sorted |k| components) carries the star's share of the weights (Σ = 1).
    """
    zones = {"fcc": 2, "bcc": 4}
    if lattice not in zones:
        raise ValueError(f"lattice must be 'fcc' or 'bcc', got {lattice!r}")
    n = max(2, 2 * int(round(0.5 * kmesh * zones[lattice] ** (1.0 / 3.0))))
    k1 = (np.arange(n) + 0.5) / n - 0.5
    grid = np.stack(np.meshgrid(k1, k1, k1, indexing="ij"), -1).reshape(-1, 3)
    key = np.sort(np.abs(np.round(grid * 2 * n).astype(np.int64)), axis=1)
    _, first, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
    return grid[first] * (4.0 * np.pi / a), counts / counts.sum()


def fermi(x: np.ndarray, mu: float, kT: float) -> np.ndarray:
    """Fermi–Dirac occupation 1/(1 + exp((x − μ)/kT)) of complex or real energies."""
    from scipy.special import expit

    x = np.asarray(x)
    if np.iscomplexobj(x):
        return 1.0 / (1.0 + np.exp((x - mu) / kT))
    return expit(-(x - mu) / kT)


def fermi_contour(e_bottom: float, mu: float, kT: float, settings: "CPASettings"
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Energies z_j (Ry) and integration weights dz_j (without the occupation f) of the vertical
    segment (the first ``settings.n_vertical`` points) and the horizontal line Im z = 2N_p πkT
    of the finite-temperature contour (module docstring); the pole terms are
    :func:`pole_points`."""
    st = settings
    y = 2.0 * st.n_poles * np.pi * kT
    xv, wv = np.polynomial.legendre.leggauss(st.n_vertical)
    pieces = [(e_bottom + 1j * 0.5 * y * (xv + 1.0), 1j * 0.5 * y * wv)]
    for lo, hi, n in ((e_bottom, mu - 10 * kT, st.n_line), (mu - 10 * kT, mu + 30 * kT, st.n_step)):
        x, w = np.polynomial.legendre.leggauss(n)
        pieces.append((0.5 * (hi - lo) * x + 0.5 * (hi + lo) + 1j * y, 0.5 * (hi - lo) * w + 0j))
    return np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])


def pole_points(mu: float, kT: float, n_poles: int) -> tuple[np.ndarray, np.ndarray]:
    """Matsubara energies μ + i(2n+1)πkT and their weights −2πi kT (f's residues)."""
    z = mu + 1j * (2 * np.arange(n_poles) + 1) * np.pi * kT
    return z, np.full(n_poles, -2j * np.pi * kT)


@dataclass
class CPABands:
    """CPA band program of the ASA self-consistency: species moments (m0, centre, width) per
    spin and l and the Fermi level from the current potential parameters.

    Parameters
    ----------
    conc : ndarray (nQ,)
        Concentrations (Σ = 1).
    n_valence : ndarray (nQ,)
        Valence electrons per species (Z − N_core).
    salpha_k, weights :
        S^α(k) (nk, 9, 9) of the primitive cell (w scale) and the k weights, either on the
        O_h-reduced grid of :func:`cubic_kpoints` (:meth:`build`) or on any mesh with Σ w = 1.
    settings : CPASettings
    """

    conc: np.ndarray
    n_valence: np.ndarray
    salpha_k: np.ndarray
    weights: np.ndarray
    kT: float
    settings: CPASettings = field(default_factory=CPASettings)
    e_fermi: float | None = None
    """Fermi level of the last :meth:`moments` call (the start of the next one)."""
    cpa_iterations: int = 0
    """Most CPA iterations any energy point needed so far."""

    @classmethod
    def build(cls, lattice: str, a: float, conc, n_valence, kmesh: int, kT: float,
              settings: CPASettings | None = None) -> "CPABands":
        """The band program for the ``lattice`` with cubic lattice constant ``a`` (Å) on the
        symmetric grid of :func:`cubic_kpoints` (k density of a ``kmesh``³ primitive mesh),
        Fermi–Dirac smearing ``kT`` (Ry)."""
        from ..lmto.structure_constants import bloch_salpha
        from ..materials import wigner_seitz_radius

        if lattice == "fcc":
            cell = 0.5 * a * np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]])
        else:
            cell = 0.5 * a * np.array([[-1.0, 1, 1], [1, -1, 1], [1, 1, -1]])
        k, wk = cubic_kpoints(lattice, a, kmesh)
        s = bloch_salpha(cell, np.zeros((1, 3)), k, wigner_seitz_radius(a, lattice))
        return cls(np.asarray(conc, float), np.asarray(n_valence, float), s, wk, float(kT),
                   settings or CPASettings())

    @property
    def n_electrons(self) -> float:
        return float(np.dot(self.conc, self.n_valence))

    def _band_bottom(self, C, delta, gamma) -> float:
        """Lowest eigenvalue over the mesh of H = C + √Δ S^γ √Δ of every pure species (Ry)."""
        from ..lmto.hamiltonian import orthogonal_hamiltonian

        lo = np.inf
        for q in range(C.shape[0]):
            for s in range(2):
                h = orthogonal_hamiltonian(self.salpha_k, C[q, s], np.sqrt(delta[q, s]), gamma[q, s])
                lo = min(lo, float(np.linalg.eigvalsh(h).min()))
        return lo

    def _gf(self, z, C, delta, gamma):
        """Species Green's functions per spin and l, (nQ, 2, nz, 3), at the energies ``z``."""
        st = self.settings
        P, _, _ = potential_functions(z, C, delta, gamma)        # (nz, nQ, 2, 3)
        P = P[..., IRREP_L]                                      # (nz, nQ, 2, 4)
        out = np.empty((C.shape[0], 2, len(z), 3), dtype=complex)
        for s in range(2):
            p_sp = np.moveaxis(P[:, :, s], 0, 1)                 # (nQ, nz, 4)
            _, _, g_q, it = solve_cpa(p_sp, self.conc, self.salpha_k, self.weights, None,
                                      st.tol, st.max_iter)
            self.cpa_iterations = max(self.cpa_iterations, it)
            out[:, s] = species_gf(z, {"C": C[:, s], "delta": delta[:, s], "gamma": gamma[:, s]}, g_q)
        return out

    def _integrals(self, G, z, W, e_nu):
        """−(1/π) Im Σ_j W_j (z_j − E_ν)^p G(z_j) for p = 0, 1, 2: (3, nQ, 2, 3)."""
        zz = z[None, None, :, None] - e_nu[:, :, None, :]
        return np.stack([-np.imag(np.einsum("qsnl,n->qsl", G * zz**p, W)) / np.pi for p in range(3)])

    def moments(self, C, delta, gamma, e_nu) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """Fermi level μ and the Fermi–Dirac weighted moments m0, m1, m2 (nQ, 2, 3) about
        ``e_nu`` of the species DOS (module docstring).

        Parameters
        ----------
        C, delta, gamma, e_nu : ndarray (nQ, 2, 3)
            Species potential parameters and linearisation energies (Ry).

        Raises
        ------
        tbmto.errors.PhysicsError
            If the CPA condition or the electron count cannot be met.
        """
        st, kT = self.settings, self.kT
        e_bottom = self._band_bottom(C, delta, gamma) - st.bottom_margin_Ry
        mu0 = self.e_fermi if self.e_fermi is not None else float(np.mean(C[:, :, 2]))
        n_target = self.n_electrons
        for _window in range(20):
            z, dz = fermi_contour(e_bottom, mu0, kT, st)
            G_line = self._gf(z, C, delta, gamma)

            def count(mu):
                """Electrons per site and the moments at μ (line reweighted, poles recomputed)."""
                f = np.concatenate([fermi(z[:st.n_vertical], mu, kT),
                                    fermi(z[st.n_vertical:].real, mu, kT)])
                zp, wp = pole_points(mu, kT, st.n_poles)
                G_p = self._gf(zp, C, delta, gamma)
                m = self._integrals(G_line, z, dz * f, e_nu) + self._integrals(G_p, zp, wp, e_nu)
                return float(np.dot(self.conc, m[0].sum(axis=(1, 2)))), m

            mu_a, (n_a, m) = mu0, count(mu0)
            # secant on the monotonic N(μ); first slope from the DOS at the first Matsubara point
            zp, _ = pole_points(mu0, kT, 1)
            G1 = self._gf(zp, C, delta, gamma)
            dos = float(np.dot(self.conc, -np.imag(G1[:, :, 0]).sum(axis=(1, 2)) / np.pi))
            mu_b = mu_a + float(np.clip((n_target - n_a) / max(dos, 0.5), -0.02, 0.02))
            for _ in range(60):
                if abs(n_a - n_target) < st.fermi_tol:
                    break
                n_b, m_b = count(mu_b)
                if abs(mu_b - mu0) > 0.02:                   # left the resolved Fermi step
                    break
                slope = (n_b - n_a) / (mu_b - mu_a) if mu_b != mu_a else max(dos, 0.5)
                mu_a, n_a, m = mu_b, n_b, m_b
                mu_b = mu_a + float(np.clip((n_target - n_a) / max(slope, 1e-3), -0.02, 0.02))
            if abs(n_a - n_target) < st.fermi_tol:
                self.e_fermi = mu_a
                return mu_a, m[0], m[1], m[2]
            mu0 = mu_b                                       # new line centred on the estimate
        raise PhysicsError(f"CPA Fermi level not found: N(μ) = {n_a:.8f} instead of "
                           f"{n_target:.8f} electrons per site")
