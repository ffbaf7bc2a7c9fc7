"""PW92 LSDA exchange–correlation: published limits, an independent QMC fit, derivatives."""

import numpy as np
import pytest

from tbmto.asa.xc import correlation_energy_hartree, exchange_energy_hartree, lsda_xc


def _pz81(rs, polarised):
    """Perdew–Zunger 1981 fit of the Ceperley–Alder QMC correlation energy (r_s ≥ 1), Hartree."""
    g, b1, b2 = (-0.0843, 1.3981, 0.2611) if polarised else (-0.1423, 1.0529, 0.3334)
    return g / (1.0 + b1 * np.sqrt(rs) + b2 * rs)


@pytest.mark.parametrize("rs", [1.0, 2.0, 5.0, 10.0])
@pytest.mark.parametrize("zeta", [0.0, 1.0])
def test_pw92_matches_independent_ceperley_alder_fit(rs, zeta):
    # PW92 and PZ81 both fit the same QMC data; they agree within their fit error (< 0.5 mHa).
    ec = correlation_energy_hartree(rs, zeta)
    assert abs(ec - _pz81(rs, zeta == 1.0)) < 5e-4


def test_pw92_published_values_and_high_density_limit():
    # PW92 unpolarised correlation energy at r_s = 1 (Ceperley–Alder: −0.0598 Ha within 1e−4)
    assert correlation_energy_hartree(1.0, 0.0) == pytest.approx(-0.0598, abs=2e-4)
    # RPA high-density limit: ε_c → A ln r_s with A = (1 − ln 2)/π² (unpolarised)
    rs = np.array([1e-6, 2e-6])
    slope = np.diff(correlation_energy_hartree(rs, 0.0))[0] / np.log(2.0)
    assert slope == pytest.approx((1 - np.log(2)) / np.pi**2, rel=2e-3)
    # exchange of the unpolarised gas: −0.458165/r_s Ha; fully polarised ×2^{1/3}
    assert exchange_energy_hartree(2.0, 0.0) == pytest.approx(-0.458165 / 2.0, rel=1e-5)
    polarised = -0.458165 / 2.0 * 2 ** (1 / 3)
    assert exchange_energy_hartree(2.0, 1.0) == pytest.approx(polarised, rel=1e-5)


@pytest.mark.parametrize("nu,nd", [(0.02, 0.02), (0.05, 0.01), (1.3, 0.2), (1e-3, 4e-4)])
def test_potential_is_derivative_of_energy_density(nu, nd):
    def edens(a, b):
        eps, _, _ = lsda_xc(a, b)
        return (a + b) * eps

    _, vu, vd = lsda_xc(nu, nd)
    h = 1e-6 * (nu + nd)
    assert vu == pytest.approx((edens(nu + h, nd) - edens(nu - h, nd)) / (2 * h), rel=1e-6)
    assert vd == pytest.approx((edens(nu, nd + h) - edens(nu, nd - h)) / (2 * h), rel=1e-6)


def test_rydberg_units_and_spin_symmetry():
    eps, vu, vd = lsda_xc(0.03, 0.03)
    rs = (3 / (4 * np.pi * 0.06)) ** (1 / 3)
    ha = exchange_energy_hartree(rs, 0.0) + correlation_energy_hartree(rs, 0.0)
    assert eps == pytest.approx(2 * ha, rel=1e-12)
    assert vu == pytest.approx(vd, rel=1e-12)
