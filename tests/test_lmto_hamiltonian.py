"""Bulk orthogonal LMTO Hamiltonian: fcc Cu bands and SOC vs lmto-conventions.md."""

import numpy as np
import pytest

from tbmto.lmto.hamiltonian import orthogonal_hamiltonian, orthogonal_hamiltonian_soc
from tbmto.lmto.harmonics import l_of_index
from tbmto.lmto.potential_functions import onsite_p
from scipy.optimize import brentq

from tbmto.lmto.structure_constants import SCREENING_ALPHA, bloch_salpha, bloch_sum, bulk_pairs

RY_EV = 13.605693122994
A = 3.614
W = 2.669 * 0.529177210903  # Å
FCC = 0.5 * A * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
C = np.array([[-0.4269, 0.5683, -0.3003]])
SQRT_DELTA = np.array([[0.4082, 0.3970, 0.09534]])
GAMMA = np.array([[0.4222, 0.1115, -0.00384]])
E_REF = -0.089
KPTS = 2 * np.pi / A * np.array([[0, 0, 0], [1, 0, 0], [0.5, 0.5, 0.5], [1, 0.5, 0]])
# reference table (eV relative to −0.089 Ry), all bands below +8 eV
REFERENCE = {
    "Gamma": [-9.97, -3.22, -3.22, -3.22, -2.37, -2.37],
    "X": [-5.39, -4.79, -1.78, -1.58, -1.58, 1.08],
    "L": [-5.64, -3.26, -3.26, -1.74, -1.74, -1.36, 5.01],
    "W": [-4.45, -3.78, -3.78, -2.36, -1.58, 7.67, 7.67],
}


@pytest.fixture(scope="module")
def salpha():
    return bloch_salpha(FCC, np.zeros((1, 3)), KPTS, W)


def test_cu_bands_match_reference_table(salpha):
    h = orthogonal_hamiltonian(salpha, C, SQRT_DELTA, GAMMA)
    np.testing.assert_allclose(h, h.conj().transpose(0, 2, 1), atol=1e-12)
    bands = (np.linalg.eigvalsh(h) - E_REF) * RY_EV
    for ik, (name, ref) in enumerate(REFERENCE.items()):
        got = bands[ik][: len(ref)]
        # reference rounded to 0.01 eV
        np.testing.assert_allclose(got, ref, atol=0.0051 + 1e-9, err_msg=name)


def test_fermi_wavevector_and_electron_count():
    """k_F along Γ–X = 0.870 (2π/a); 11.036 electrons below −0.089 Ry; E_F(11 e) = −0.0983 Ry.

    Electron count by sampling a shifted 32³ mesh (counting error ≈ 1e−3 electrons).
    """
    pairs = bulk_pairs(FCC, np.zeros((1, 3)), W)

    def bands(k):
        return np.linalg.eigvalsh(orthogonal_hamiltonian(bloch_sum(pairs, FCC, k, 1), C,
                                                         SQRT_DELTA, GAMMA))

    def crossing(x):
        return bands(np.array([[x * 2 * np.pi / A, 0.0, 0.0]]))[0, 5] - E_REF

    assert abs(brentq(crossing, 0.6, 0.99, xtol=1e-6) - 0.870) < 1e-3
    n = 32
    u = (np.arange(n) + 0.5) / n
    frac = np.stack(np.meshgrid(u, u, u, indexing="ij"), axis=-1).reshape(-1, 3)
    e = np.sort(bands(frac @ (2 * np.pi * np.linalg.inv(FCC).T)).ravel())
    count = 2.0 * np.searchsorted(e, E_REF) / n**3
    assert abs(count - 11.036) < 0.003
    e_f11 = e[int(5.5 * n**3) - 1]
    assert abs(e_f11 - (-0.0983)) < 1.5e-3


def test_gamma1_at_pole_of_p_s(salpha):
    """Γ₁ = C_s − Δ_s/γ_s (the s pole of P, S^α_ss(Γ) → −∞ in the γ representation)."""
    h = orthogonal_hamiltonian(salpha[:1], C, SQRT_DELTA, GAMMA)
    e = np.linalg.eigvalsh(h)[0, 0]
    assert abs(e - (C[0, 0] - SQRT_DELTA[0, 0] ** 2 / GAMMA[0, 0])) < 2e-4


def test_cluster_radius_converged():
    """Doubling the screening margin changes the 8-shell Cu bands by < 1e-4 eV."""
    s1 = bloch_salpha(FCC, np.zeros((1, 3)), KPTS[1:3], W)
    s2 = bloch_salpha(FCC, np.zeros((1, 3)), KPTS[1:3], W, cluster_radius=5.25 * W + 1.9 * W)
    e1 = np.linalg.eigvalsh(orthogonal_hamiltonian(s1, C, SQRT_DELTA, GAMMA))
    e2 = np.linalg.eigvalsh(orthogonal_hamiltonian(s2, C, SQRT_DELTA, GAMMA))
    assert np.abs(e1 - e2).max() * RY_EV < 1e-4


def test_two_shell_cut_near_fermi_level():
    """Cutting S^α at 2 shells moves Cu states within 1 eV of E_F by ≲ 0.03 eV."""
    k = 2 * np.pi / A * np.random.default_rng(3).uniform(-1, 1, size=(60, 3))
    s8 = bloch_salpha(FCC, np.zeros((1, 3)), k, W)
    s2 = bloch_salpha(FCC, np.zeros((1, 3)), k, W, cutoff=1.1 * A)  # shells at a/√2 and a
    e8 = np.linalg.eigvalsh(orthogonal_hamiltonian(s8, C, SQRT_DELTA, GAMMA))
    e2 = np.linalg.eigvalsh(orthogonal_hamiltonian(s2, C, SQRT_DELTA, GAMMA))
    near = np.abs(e8 - E_REF) * RY_EV < 1.0
    assert near.sum() >= 10
    shift = np.abs(e8 - e2)[near].max() * RY_EV
    assert 0.003 < shift < 0.03


def test_secular_equation_roots(salpha):
    """P^α(E_n) − S^α(k) is singular at every eigenvalue E_n of H."""
    lv = l_of_index(2)
    alpha = np.array(SCREENING_ALPHA)[lv]
    c, d, g = C[0, lv], SQRT_DELTA[0, lv] ** 2, GAMMA[0, lv]
    h = orthogonal_hamiltonian(salpha, C, SQRT_DELTA, GAMMA)
    for sk, hk in zip(salpha, h):
        for e in np.linalg.eigvalsh(hk)[:6]:
            p = (e - c) / (d + (g - alpha) * (e - c))
            sv = np.linalg.svd(np.diag(p) - sk, compute_uv=False)
            assert sv[-1] < 1e-9 * sv[0], (e, sv[-1])
        # and not singular half-way between two bands
        e_mid = 0.5 * sum(np.linalg.eigvalsh(hk)[[0, 1]])
        p = (e_mid - c) / (d + (g - alpha) * (e_mid - c))
        sv = np.linalg.svd(np.diag(p) - sk, compute_uv=False)
        assert sv[-1] > 1e-4 * sv[0]


def test_secular_equation_with_onsite_p_18(salpha):
    """Same with the 18×18 on-site P^α (soc=False, spin-independent) and S^α ⊗ 1_spin."""
    h = orthogonal_hamiltonian(salpha[1:2], C, SQRT_DELTA, GAMMA)
    e = np.linalg.eigvalsh(h)[0, 2]
    spin = lambda q: np.repeat(q[:, None, :], 2, axis=1)  # noqa: E731
    p = onsite_p(e, spin(C), spin(SQRT_DELTA), spin(GAMMA), np.zeros((1, 3)),
                 np.array([[0.3, 0.4, np.sqrt(0.75)]]), soc=False)[0]
    k = p - np.kron(np.eye(2), salpha[1])
    sv = np.linalg.svd(k, compute_uv=False)
    assert sv[-1] < 1e-9 * sv[0]
    assert sv[-2] < 1e-9 * sv[0]  # Kramers/spin pair


def test_cu_spin_orbit_splitting(salpha):
    """ξ_d = 8.37 mRy: Γ₂₅′ → Γ₈⁺ −331.24 (×4), Γ₇⁺ −317.14 (×2); Γ₁₂ → −261.92 mRy."""
    xi = np.array([[0.0, 0.0, 0.00837]])
    h0 = orthogonal_hamiltonian(salpha[:1], C, SQRT_DELTA, GAMMA)
    e0 = np.linalg.eigvalsh(h0)[0] * 1000
    np.testing.assert_allclose(e0[1:6], [-325.51] * 3 + [-263.47] * 2, atol=0.011)
    h = orthogonal_hamiltonian_soc(salpha[:1], C, SQRT_DELTA, GAMMA, xi)
    assert h.shape == (1, 18, 18)
    np.testing.assert_allclose(h, h.conj().transpose(0, 2, 1), atol=1e-13)
    e = np.linalg.eigvalsh(h)[0] * 1000
    np.testing.assert_allclose(e[2:12], [-331.24] * 4 + [-317.14] * 2 + [-261.92] * 4,
                               atol=0.011)


def test_soc_hamiltonian_without_soc_is_two_copies(salpha):
    h = orthogonal_hamiltonian(salpha, C, SQRT_DELTA, GAMMA)
    hs = orthogonal_hamiltonian_soc(salpha, C, SQRT_DELTA, GAMMA, np.zeros((1, 3)))
    np.testing.assert_allclose(hs[:, :9, :9], h, atol=1e-14)
    np.testing.assert_allclose(hs[:, 9:, 9:], h, atol=1e-14)
    assert np.all(hs[:, :9, 9:] == 0)
    # collinear spin splitting along z: per-spin parameters give the per-spin bands
    c2 = np.stack([C, C + 0.05], axis=1)
    hp = orthogonal_hamiltonian_soc(salpha, c2, SQRT_DELTA, GAMMA, np.zeros((1, 3)))
    np.testing.assert_allclose(hp[:, 9:, 9:], orthogonal_hamiltonian(salpha, C + 0.05,
                                                                     SQRT_DELTA, GAMMA),
                               atol=1e-14)


def test_bad_inputs(salpha):
    with pytest.raises(ValueError, match="salpha_k"):
        orthogonal_hamiltonian(np.zeros((2, 8, 8)), C, SQRT_DELTA, GAMMA)
    with pytest.raises(ValueError, match="C"):
        orthogonal_hamiltonian(salpha, np.zeros((2, 3)), SQRT_DELTA, GAMMA)
    with pytest.raises(ValueError, match="alpha"):
        orthogonal_hamiltonian(salpha, C, SQRT_DELTA, GAMMA, alpha=(1.0,))
