"""Unit conversions and derived observables of the scattering calculation.

Conventions (Brataas, Tserkovnyak, Bauer & Kelly, *Spin pumping and spin transfer*, arXiv:1108.0385, Sec. IV):

* conductance G = (e²/h) Tr t t† (spin summed), so a dimensionless ``G_e2h`` = Tr t t†;
* Sharvin conductance G_Sh = (e²/h) N, N the number of propagating lead channels
  (spin-orbitals, both spins) at E_F;
* area-normalised quantities use the lateral supercell area A;
* Gilbert damping from the dissipation T = Re Tr(∂S†/∂θ ∂S/∂θ) of a rigid rotation θ of all
  moments (seed Eqs. 64–70), α = g T / (4π M) with M the total moment in μB.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "E2_OVER_H_SIEMENS",
    "conductance_siemens",
    "conductance_per_area",
    "sharvin_conductance_per_area",
    "area_resistance_ohm_m2",
    "free_electron_sharvin_per_area",
    "gilbert_alpha",
    "mixing_conductances",
    "k_participation",
    "fano_factor",
    "FANO_DIFFUSIVE",
]

E2_OVER_H_SIEMENS: float = (1.602176634e-19) ** 2 / 6.62607015e-34
"""Conductance quantum per spin e²/h in S (exact in SI 2019: 3.874045864...e−5 S)."""

_NM2_TO_M2 = 1e-18


def _positive(name: str, value) -> np.ndarray:
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return v


def _nonneg(name: str, value) -> np.ndarray:
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return v


def conductance_siemens(G_e2h):
    """G in S from G in units of e²/h: G = (e²/h) · G_e2h."""
    return _nonneg("G_e2h", G_e2h) * E2_OVER_H_SIEMENS


def conductance_per_area(G_e2h, area_nm2):
    """Conductance per area in 10¹⁵ Ω⁻¹ m⁻².

    G/A = (e²/h) G_e2h / (A · 10⁻¹⁸ m²) / 10¹⁵.

    Parameters
    ----------
    G_e2h : float or array
        Conductance in units of e²/h (divide by 2 first for a per-spin value of a
        spin-degenerate system).
    area_nm2 : float or array
        Lateral area in nm².
    """
    G = _nonneg("G_e2h", G_e2h)
    A = _positive("area_nm2", area_nm2)
    return G * E2_OVER_H_SIEMENS / (A * _NM2_TO_M2) / 1e15


def sharvin_conductance_per_area(n_modes, area_nm2, per_spin: bool = False):
    """Sharvin conductance per area, (e²/h) N / A, in 10¹⁵ Ω⁻¹ m⁻².

    Parameters
    ----------
    n_modes : float or array
        Number of propagating channels N (k-averaged, spin-orbital count, both spins).
    area_nm2 : float or array
        Lateral area in nm².
    per_spin : bool
        Divide by 2 (spin-degenerate lead: channels per spin).
    """
    val = conductance_per_area(n_modes, area_nm2)
    return val / 2.0 if per_spin else val


def free_electron_sharvin_per_area(k_fermi_inv_angstrom: float):
    """Free-electron Sharvin conductance per area and spin, (e²/h) k_F²/(4π), in 10¹⁵ Ω⁻¹ m⁻².

    The number of channels per spin and area of a free-electron lead is the area of the
    Fermi circle projection π k_F² divided by (2π)².
    """
    kf = float(_positive("k_fermi_inv_angstrom", k_fermi_inv_angstrom))
    per_m2 = (kf * 1e10) ** 2 / (4.0 * math.pi)
    return E2_OVER_H_SIEMENS * per_m2 / 1e15


def area_resistance_ohm_m2(G_e2h, area_nm2):
    """Area-resistance product A R = A / G in Ω m² (A in nm², G in e²/h)."""
    G = _positive("G_e2h", G_e2h)
    A = _positive("area_nm2", area_nm2)
    return A * _NM2_TO_M2 / (G * E2_OVER_H_SIEMENS)


def gilbert_alpha(T, moment_muB, g: float = 2.0):
    """Dimensionless Gilbert damping from the scattering-matrix dissipation (seed Eqs. 64–70).

    For a rigid rotation of all moments by an angle θ(t) about an axis ⊥ m, the energy pumped
    into both leads is (Eq. 66, summed over leads α, β)

        I^E = (ħ/4π) Σ Tr(Ṡ† Ṡ) = (ħ/4π) T θ̇²,   T = Re Tr(∂S†/∂θ ∂S/∂θ)   (Eqs. 67–68).

    The Landau–Lifshitz–Gilbert dissipation of a magnet with total moment M μB is
    (Eq. 64) P = (α M μB / γ) θ̇² with γ = g μB/ħ, i.e. P = α M ħ θ̇² / g. Equating P = I^E
    (Eq. 70) gives

        α = g T / (4π M).

    Parameters
    ----------
    T : float or array
        Dissipation trace, dimensionless (summed over the lateral supercell, k-averaged).
    moment_muB : float or array
        Total spin moment M of the magnetic region (same supercell) in μB, > 0.
    g : float
        Landé g factor (default 2).
    """
    Tv = _nonneg("T", T)
    M = _positive("moment_muB", moment_muB)
    gv = float(_positive("g", g))
    return gv * Tv / (4.0 * math.pi * M)


def mixing_conductances(r_up: np.ndarray, r_down: np.ndarray, t_up: np.ndarray,
                        t_down: np.ndarray) -> tuple[complex, complex]:
    """Reflection and transmission mixing conductances of one k∥ and one incidence side.

    g↑↓ = Σ_mn [δ_mn − r↑_mn (r↓_mn)*] and g↑↓_t = Σ_mn t↑_mn (t↓_mn)*, in units of e²/h
    (Brataas, Nazarov & Bauer, PRL 84, 2481 (2000); seed Eq. 79), for a collinear system
    without SOC whose spin-↑ and spin-↓ problems are solved in the same channel basis of
    non-magnetic leads (r: incident lead ← incident lead, n × n; t: other lead ← incident lead).

    With unitarity (Σ|r↑|² + Σ|t↑|² = n, the same for ↓), the dissipation of a rotation of the
    magnetisation by θ, ∂S/∂θ = −(i/2)[σ·n̂, S], satisfies for this incidence side
    ½ Σ|r↑ − r↓|² + ½ Σ|t↑ − t↓|² = Re(g↑↓ − g↑↓_t): the identity behind seed Eq. 69.

    Returns
    -------
    g_refl, g_trans : complex
    """
    r_up, r_down = np.asarray(r_up), np.asarray(r_down)
    t_up, t_down = np.asarray(t_up), np.asarray(t_down)
    if r_up.shape != r_down.shape or t_up.shape != t_down.shape or r_up.ndim != 2 \
            or r_up.shape[0] != r_up.shape[1] or t_up.shape[1:] != r_up.shape[1:]:
        raise ValueError(f"r↑, r↓ must be equal n × n and t↑, t↓ equal m × n, got {r_up.shape}, "
                         f"{r_down.shape}, {t_up.shape}, {t_down.shape}")
    g_refl = complex(r_up.shape[0] - np.sum(r_up * r_down.conj()))
    return g_refl, complex(np.sum(t_up * t_down.conj()))


def k_participation(values) -> float:
    """Participation ratio (Σ_k x_k)² / (n Σ_k x_k²) of the n k∥ contributions x_k ≥ 0 to a
    Brillouin-zone average, in (0, 1].

    1 when every k∥ contributes equally, 1/n when one k∥ carries the whole sum. Applied to the
    damping T_k = Re Tr ∂S†/∂θ ∂S/∂θ at each k∥ it measures how reliably the mesh samples T: in
    a diffusive slab it is ≈ 0.5–0.8, while in a slab longer than the localisation length of
    its lateral cell narrow resonances at a few k∥ dominate and it falls below ≈ 0.2
    (:class:`tbmto.errors.LocalisationWarning`). NaN for an empty or all-zero set.

    Parameters
    ----------
    values : array_like of float
        Per-k∥ contributions (dimensionless), all ≥ 0.
    """
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0 or not np.any(x):
        return math.nan
    x = _nonneg("values", x)
    return float(x.sum() ** 2 / (x.size * np.sum(x**2)))


FANO_DIFFUSIVE: float = 1.0 / 3.0
"""Fano factor of a metallic diffusive conductor, l ≪ L ≪ N l (Beenakker & Büttiker, PRB 46,
1889 (1992); Nagaev, Phys. Lett. A 169, 103 (1992))."""


def fano_factor(noise, transmission) -> float:
    """Fano factor F = Σ_k Tr t†t(1 − t†t) / Σ_k Tr t†t of a k∥-resolved conductor.

    The ratio of the zero-temperature shot noise to the Poisson value 2e|I| (Büttiker, PRL 65,
    2901 (1990); Beenakker, Rev. Mod. Phys. 69, 731 (1997), Sec. II.B): 0 for a ballistic
    conductor (every channel open), :data:`FANO_DIFFUSIVE` = 1/3 for a diffusive one
    whatever its disorder, and → 1 for a tunnel barrier or a slab longer than its localisation
    length (a few resonant channels). Applied to a slab between ideal leads it tells which
    regime a length is in without knowing the mean free path: F well below 1/3 at the fitted
    lengths means channels still cross ballistically and R(L) is not yet Ohmic.

    Parameters
    ----------
    noise : array_like of float
        Per-k∥ Tr t†t(1 − t†t) (:meth:`tbmto.wfm.SMatrixResult.noise_trace`), ≥ 0.
    transmission : array_like of float
        Per-k∥ Tr t†t, same shape, ≥ 0.

    Returns
    -------
    float
        F (dimensionless, in [0, 1]); NaN for empty input or zero total transmission.
    """
    s, t = np.asarray(noise, dtype=float).ravel(), np.asarray(transmission, dtype=float).ravel()
    if s.shape != t.shape:
        raise ValueError(f"noise and transmission must have the same length, got {s.size} and {t.size}")
    if t.size == 0 or not np.any(t):
        return math.nan
    # round-off can leave Tr t†t(1 − t†t) at −1e−16 for a fully open channel
    s = _nonneg("noise", np.where(np.abs(s) < 1e-12 * np.maximum(t, 1.0), np.abs(s), s))
    t = _nonneg("transmission", t)
    return float(s.sum() / t.sum())
