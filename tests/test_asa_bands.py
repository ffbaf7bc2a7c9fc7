"""Band moments, Fermi level, k-mesh reduction and the Ewald Madelung matrix."""

import numpy as np
import pytest

from tbmto.asa.bands import (band_moments, diagonalise, fermi_level, mp_fractional,
                             structure_constants_k, time_reversal_reduce)
from tbmto.asa.madelung import madelung_matrix

# RS-LMTO-ASA fcc Cu parameters (shared/reference/lmto-conventions.md), spin-degenerate
CU_C = np.array([-0.4269, 0.5683, -0.3003])
CU_SD = np.array([0.4082, 0.3970, 0.09534])
CU_G = np.array([0.4222, 0.1115, -0.00384])


def test_time_reversal_reduction():
    for n in (4, 5):
        frac, w = time_reversal_reduce(mp_fractional(n))
        assert len(frac) == (n**3 + 1) // 2
        assert w.sum() == pytest.approx(1.0)
        full = {tuple(np.round(np.mod(k, 1) * 1e6).astype(int) % 1000000) for k in mp_fractional(n)}
        back = {tuple(np.round(np.mod(s * k, 1) * 1e6).astype(int) % 1000000)
                for k in frac for s in (1, -1)}
        assert back == full


def test_cu_fermi_level_and_moments_against_reference_bands():
    a = 3.614
    cell = 0.5 * a * np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]])
    w = a * (3 / (16 * np.pi)) ** (1 / 3)
    s, wk = structure_constants_k(cell, np.zeros((1, 3)), w, 10)
    par = [np.broadcast_to(p, (1, 2, 3)) for p in (CU_C, CU_SD, CU_G)]
    eigs, partial = diagonalise(s, *par)
    kT = 0.002
    mu = fermi_level(eigs, wk, 11.0, kT)
    # reference: E_F for 11 electrons = −0.0983 Ry (8-shell S^α, dense mesh)
    assert mu == pytest.approx(-0.0983, abs=3e-3)
    e_nu = np.broadcast_to(CU_C, (1, 2, 3))
    m0, m1, m2 = band_moments(eigs, partial, wk, mu, kT, e_nu)
    assert m0.sum() == pytest.approx(11.0, abs=1e-9)
    # partial weights sum to one per band
    np.testing.assert_allclose(partial.sum(axis=(2, 3)), 1.0, atol=1e-10)
    # d charge ≈ 9.5 (reference 9.51), second moments are positive
    assert 2 * m0[0, 0, 2] == pytest.approx(9.5, abs=0.1)
    assert np.all(m2 > 0)
    # moments about a shifted E_ν: m1' = m1 − δ m0
    m0b, m1b, _ = band_moments(eigs, partial, wk, mu, kT, e_nu + 0.1)
    np.testing.assert_allclose(m1b, m1 - 0.1 * m0, atol=1e-12)


def test_fermi_level_bad_input():
    e = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="smearing"):
        fermi_level(e, np.ones(3) / 3, 2.0, 0.0)
    with pytest.raises(ValueError, match="n_electrons"):
        fermi_level(e, np.ones(3) / 3, 9.0, 0.01)


def test_madelung_constants():
    # rocksalt (nearest-neighbour distance 1): 1.747565; CsCl (distance 1): 1.762675
    a = 2.0
    cell = 0.5 * a * np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]])
    m = madelung_matrix(cell, np.array([[0, 0, 0], [1.0, 0, 0]]))
    assert -(m[0] @ [1, -1]) == pytest.approx(1.747565, abs=1e-6)
    a = 2 / np.sqrt(3)
    m = madelung_matrix(np.eye(3) * a, np.array([[0, 0, 0], [a / 2] * 3]))
    assert -(m[0] @ [1, -1]) == pytest.approx(1.762675, abs=1e-6)
    np.testing.assert_allclose(m, m.T, atol=1e-12)
