"""Local spin-density exchange–correlation: Slater exchange + Perdew–Wang 1992 correlation.

Reference: J. P. Perdew and Y. Wang, Phys. Rev. B 45, 13244 (1992) ("PW92"), Eqs. (8)–(10) and
Table I. Internally in Hartree; the public functions return Rydberg (×2).

Exchange (exact for the uniform gas):
    ε_x(r_s, ζ) = ε_x⁰(r_s) [(1 + ζ)^{4/3} + (1 − ζ)^{4/3}] / 2,  ε_x⁰ = −(3/4π)(9π/4)^{1/3} / r_s,
    v_x,σ = −(6 n_σ / π)^{1/3}  (Hartree).
Correlation (PW92 Eq. 8):
    ε_c(r_s, ζ) = ε_c(r_s, 0) + α_c(r_s) f(ζ)/f''(0) (1 − ζ⁴) + [ε_c(r_s, 1) − ε_c(r_s, 0)] f(ζ) ζ⁴,
    f(ζ) = [(1 + ζ)^{4/3} + (1 − ζ)^{4/3} − 2] / (2^{4/3} − 2),
with each of ε_c(r_s,0), ε_c(r_s,1), −α_c(r_s) given by (PW92 Eq. 10, p = 1)
    G(r_s) = −2A(1 + α₁ r_s) ln[1 + 1 / (2A(β₁ r_s^{1/2} + β₂ r_s + β₃ r_s^{3/2} + β₄ r_s²))].
Potential: v_c,σ = ε_c − (r_s/3) ∂ε_c/∂r_s − (ζ − s_σ) ∂ε_c/∂ζ, s_↑ = +1, s_↓ = −1.
"""

from __future__ import annotations

import numpy as np

# (A, alpha1, beta1, beta2, beta3, beta4) from PW92 Table I
_PW92_UNPOL = (0.031091, 0.21370, 7.5957, 3.5876, 1.6382, 0.49294)
_PW92_POL = (0.015545, 0.20548, 14.1189, 6.1977, 3.3662, 0.62517)
_PW92_MALPHA = (0.016887, 0.11125, 10.357, 3.6231, 0.88026, 0.49671)
_FPP0 = 1.709921  # f''(0), PW92
_TWO43 = 2.0 ** (4.0 / 3.0) - 2.0
_CX = -0.75 * (9.0 / (4.0 * np.pi * np.pi)) ** (1.0 / 3.0)  # ε_x⁰ r_s = −(3/4π)(9π/4)^{1/3}
_DENSITY_FLOOR = 1e-30


def _g(rs: np.ndarray, par: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """PW92 G(r_s) and dG/dr_s (Hartree)."""
    a, a1, b1, b2, b3, b4 = par
    srs = np.sqrt(rs)
    q0 = -2.0 * a * (1.0 + a1 * rs)
    q1 = 2.0 * a * (b1 * srs + b2 * rs + b3 * rs * srs + b4 * rs * rs)
    dq1 = a * (b1 / srs + 2.0 * b2 + 3.0 * b3 * srs + 4.0 * b4 * rs)
    lg = np.log1p(1.0 / q1)
    g = q0 * lg
    dg = -2.0 * a * a1 * lg - q0 * dq1 / (q1 * q1 + q1)
    return g, dg


def _f_zeta(zeta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(ζ) and f'(ζ)."""
    zp = np.clip(1.0 + zeta, 0.0, 2.0)
    zm = np.clip(1.0 - zeta, 0.0, 2.0)
    f = (zp ** (4.0 / 3.0) + zm ** (4.0 / 3.0) - 2.0) / _TWO43
    df = (4.0 / 3.0) * (np.cbrt(zp) - np.cbrt(zm)) / _TWO43
    return f, df


def correlation_energy_hartree(rs, zeta) -> np.ndarray:
    """PW92 correlation energy per electron ε_c(r_s, ζ) in Hartree.

    Parameters
    ----------
    rs : array_like
        Wigner–Seitz radius r_s = (3 / 4πn)^{1/3} in bohr (> 0).
    zeta : array_like
        Spin polarisation ζ = (n↑ − n↓)/n in [−1, 1].
    """
    ec, _, _ = _correlation(np.asarray(rs, float), np.asarray(zeta, float))
    return ec


def _correlation(rs: np.ndarray, zeta: np.ndarray):
    """ε_c, ∂ε_c/∂r_s, ∂ε_c/∂ζ (Hartree)."""
    e0, d0 = _g(rs, _PW92_UNPOL)
    e1, d1 = _g(rs, _PW92_POL)
    ma, dma = _g(rs, _PW92_MALPHA)
    ac, dac = -ma, -dma
    f, df = _f_zeta(zeta)
    z3 = zeta ** 3
    z4 = z3 * zeta
    ec = e0 + ac * f / _FPP0 * (1.0 - z4) + (e1 - e0) * f * z4
    dec_drs = d0 + dac * f / _FPP0 * (1.0 - z4) + (d1 - d0) * f * z4
    dec_dz = (ac / _FPP0 * (df * (1.0 - z4) - 4.0 * z3 * f)
              + (e1 - e0) * (df * z4 + 4.0 * z3 * f))
    return ec, dec_drs, dec_dz


def exchange_energy_hartree(rs, zeta) -> np.ndarray:
    """Exchange energy per electron ε_x(r_s, ζ) of the uniform gas in Hartree."""
    rs = np.asarray(rs, float)
    zeta = np.asarray(zeta, float)
    zp, zm = np.clip(1 + zeta, 0, 2), np.clip(1 - zeta, 0, 2)
    return _CX / rs * 0.5 * (zp ** (4 / 3) + zm ** (4 / 3))


def lsda_xc(n_up, n_down) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LSDA (Slater exchange + PW92 correlation) energy density and potentials, Rydberg.

    Parameters
    ----------
    n_up, n_down : array_like
        Spin densities in electrons/bohr³ (≥ 0; tiny values are floored).

    Returns
    -------
    eps_xc : ndarray
        ε_xc per electron (Ry); the energy density is (n↑ + n↓) ε_xc.
    v_up, v_down : ndarray
        v_xc,σ = ∂[n ε_xc]/∂n_σ (Ry).
    """
    nu = np.maximum(np.asarray(n_up, float), 0.0)
    nd = np.maximum(np.asarray(n_down, float), 0.0)
    n = np.maximum(nu + nd, _DENSITY_FLOOR)
    zeta = np.clip((nu - nd) / n, -1.0, 1.0)
    rs = (3.0 / (4.0 * np.pi * n)) ** (1.0 / 3.0)
    ex = exchange_energy_hartree(rs, zeta)
    vxu = -np.cbrt(6.0 * nu / np.pi)
    vxd = -np.cbrt(6.0 * nd / np.pi)
    ec, dec_drs, dec_dz = _correlation(rs, zeta)
    common = ec - rs / 3.0 * dec_drs
    vcu = common - (zeta - 1.0) * dec_dz
    vcd = common - (zeta + 1.0) * dec_dz
    return 2.0 * (ex + ec), 2.0 * (vxu + vcu), 2.0 * (vxd + vcd)
