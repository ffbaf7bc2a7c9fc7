"""Analytic dS/dθ (Fisher–Lee, dG = G dH G) against central finite differences."""

import numpy as np
import pytest

from tbmto.wfm import lead_modes, smatrix, smatrix_from_modes
from tbmto.wfm.models import SIGMA_X, SIGMA_Y, SIGMA_Z, fold_cells, spinful_strip_blocks, strip_blocks


def _random_hermitian(n, rng):
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return 0.5 * (a + a.conj().T)


def _fd(left, right, hs, vs, dh, step=1e-5):
    plus = smatrix_from_modes(left, right, [h + step * d for h, d in zip(hs, dh)], vs).S
    minus = smatrix_from_modes(left, right, [h - step * d for h, d in zip(hs, dh)], vs).S
    return (plus - minus) / (2 * step)


@pytest.mark.parametrize("cells", [1, 2])
def test_random_perturbation_matches_finite_difference(cells):
    # cells = 2: folded layers, couplings with zero rows (structurally sparse sweep path)
    rng = np.random.default_rng(2)
    h, v = fold_cells(*strip_blocks(5), p=cells)
    n = len(h)
    m = 8
    hs = [h + np.diag(rng.uniform(-1.2, 1.2, n)) for _ in range(m)]
    vs = [v] * (m + 1)
    dh = [_random_hermitian(n, rng) for _ in range(m)]
    lead = lead_modes(h, v, 0.35)
    res = smatrix_from_modes(lead, lead, hs, vs, dh)
    fd = _fd(lead, lead, hs, vs, dh)
    assert np.max(np.abs(res.dS - fd)) < 1e-6 * np.max(np.abs(res.dS))
    # S unitary for every θ  =>  S† dS is anti-Hermitian
    x = res.S.conj().T @ res.dS
    assert np.max(np.abs(x + x.conj().T)) < 1e-10 * np.max(np.abs(res.dS))


def test_spin_rotation_in_exchange_split_soc_slab_with_singular_hopping():
    # exchange-split slab with Rashba SOC, rank-deficient (folded) hoppings, different
    # left/right lead block sizes; θ rotates every moment about x: dH = Δ (x × m)·σ
    rng = np.random.default_rng(4)
    width, delta = 3, 0.6
    h1, v1 = spinful_strip_blocks(width, rashba=0.25)
    hf, vf = fold_cells(h1, v1, 2)  # right lead: two columns per cell (rank-deficient v)
    n = 2 * width
    m_dirs = rng.normal(size=(5, width, 3))
    m_dirs /= np.linalg.norm(m_dirs, axis=-1, keepdims=True)
    hs, dh = [], []
    for layer in m_dirs:
        exch = sum(np.kron(np.diag(layer[:, a]), s) for a, s in enumerate((SIGMA_X, SIGMA_Y, SIGMA_Z)))
        dmdt = np.cross([1.0, 0.0, 0.0], layer)
        dexch = sum(np.kron(np.diag(dmdt[:, a]), s) for a, s in enumerate((SIGMA_X, SIGMA_Y, SIGMA_Z)))
        hs.append(h1 + delta * exch + np.kron(np.diag(rng.uniform(-0.8, 0.8, width)), np.eye(2)))
        dh.append(delta * dexch)
    v_last = np.zeros((n, 2 * n), complex)
    v_last[:, :n] = v1
    vs = [v1] * 5 + [v_last]
    energy = 0.4
    left, right = lead_modes(h1, v1, energy), lead_modes(hf, vf, energy)
    res = smatrix_from_modes(left, right, hs, vs, dh)
    assert res.unitarity_error() < 1e-10
    fd = _fd(left, right, hs, vs, dh)
    assert np.max(np.abs(res.dS - fd)) < 1e-6 * np.max(np.abs(res.dS))
    # gauge-invariant damping trace Re Tr(dS† dS) agrees too
    assert res.damping_trace() == pytest.approx(float(np.sum(np.abs(fd) ** 2)), rel=1e-6)
    # and the public entry point gives the same numbers
    pub = smatrix(h1, v1, hs, vs, hf, vf, energy=energy, dh_slab=dh)
    assert pub.damping_trace() == pytest.approx(res.damping_trace(), rel=1e-12)


def test_single_layer_slab_and_s_independent_of_derivative_request():
    rng = np.random.default_rng(8)
    h, v = strip_blocks(4)
    hs = [h + np.diag(rng.uniform(-1, 1, 4))]
    dh = [_random_hermitian(4, rng)]
    lead = lead_modes(h, v, -0.9)
    with_d = smatrix_from_modes(lead, lead, hs, [v, v], dh)
    without = smatrix_from_modes(lead, lead, hs, [v, v])
    np.testing.assert_array_equal(with_d.S, without.S)
    fd = _fd(lead, lead, hs, [v, v], dh)
    assert np.max(np.abs(with_d.dS - fd)) < 1e-6 * np.max(np.abs(with_d.dS))


def test_damping_trace_requires_derivative():
    h, v = strip_blocks(2)
    res = smatrix(h, v, [h], [v, v], h, v, energy=0.1)
    assert res.dS is None
    with pytest.raises(ValueError, match="dh_slab"):
        res.damping_trace()


def test_damping_without_soc_equals_spin_pumping_mixing_conductance():
    # No SOC, non-magnetic leads, slab exchange Δ m·σ with m = z rotated about x:
    # S(θ) = U S U†, so Re Tr(∂S†∂S) = C − Re Tr(S↑† S↓) with C the number of channels
    # per spin in both leads (the Tserkovnyak–Brataas–Bauer mixing-conductance form of
    # seed Eqs. 63/69), S↑, S↓ from separate spinless calculations in one mode basis.
    rng = np.random.default_rng(23)
    width, layers, delta, energy = 3, 6, 0.7, 0.25
    h0, v0 = strip_blocks(width)
    pots = [np.diag(rng.uniform(-1.0, 1.0, width)) for _ in range(layers)]
    s2 = np.eye(2)
    h_sp, v_sp = np.kron(h0, s2), np.kron(v0, s2)
    hs = [np.kron(h0 + p, s2) + delta * np.kron(np.eye(width), SIGMA_Z) for p in pots]
    dh = [-delta * np.kron(np.eye(width), SIGMA_Y) for _ in range(layers)]  # ∂(Δ m·σ)/∂θ, m' = x × m
    res = smatrix(h_sp, v_sp, hs, [v_sp] * (layers + 1), h_sp, v_sp, energy=energy, dh_slab=dh)
    lead = lead_modes(h0, v0, energy)
    s_up = smatrix_from_modes(lead, lead, [h0 + p + delta * np.eye(width) for p in pots], [v0] * (layers + 1)).S
    s_dn = smatrix_from_modes(lead, lead, [h0 + p - delta * np.eye(width) for p in pots], [v0] * (layers + 1)).S
    channels = s_up.shape[0]
    assert res.S.shape[0] == 2 * channels
    expected = channels - np.real(np.trace(s_up.conj().T @ s_dn))
    assert expected > 0.05
    assert res.damping_trace() == pytest.approx(expected, rel=1e-9)
