"""Shot noise Tr t†t(1 − t†t) and the Fano factor across the ballistic, diffusive and localised
regimes of disordered square-lattice strips (the quasi-one-dimensional wire that each k∥ of a
supercell slab is).

* one channel: Tr t†t(1 − t†t) = T(1 − T) exactly, so F = 1 − T;
* a clean strip transmits every open channel with τ = 1: F = 0;
* a diffusive strip, ℓ ≪ L ≪ Nℓ, has F = 1/3 whatever ℓ (Beenakker & Büttiker, PRB 46, 1889
  (1992)); shorter strips are below, strips much longer than the localisation length Nℓ
  approach 1 (Beenakker, Rev. Mod. Phys. 69, 731 (1997), Secs. II.B and III);
* the Fano factor of a nested sweep equals that of independent solves.
"""

import numpy as np
import pytest

from tbmto.observables import FANO_DIFFUSIVE, fano_factor
from tbmto.wfm import Branch, lead_modes, smatrix, smatrix_from_modes, smatrix_nested
from tbmto.wfm.models import chain_blocks, open_channels_strip, strip_blocks

E = 0.6
W = 1.6  # box disorder of width W (units of the hopping)


def _nested_strip(width, lengths, seed):
    """One disordered strip of lengths[-1] columns and its nested results for every L: (lead,
    on-site blocks, list of SMatrixResult)."""
    h, v = strip_blocks(width)
    lead = lead_modes(h, v, E)
    rng = np.random.default_rng(seed)
    trunk = [h + np.diag(rng.uniform(-W / 2, W / 2, width)) for _ in range(lengths[-1])]
    res = smatrix_nested(lead, trunk, [v] * len(trunk), [Branch(at=L, h=[h], v=[v, v], right=lead)
                                                          for L in lengths])
    return lead, trunk, res


def _strip_sweep(width, lengths, seed):
    """(noise, T) of the first L columns of one disordered strip for every L (one sweep)."""
    return np.array([[r.noise_trace(), r.transmission()] for r in _nested_strip(width, lengths, seed)[2]])


def test_single_channel_noise_is_T_times_one_minus_T():
    h0, v = chain_blocks()
    lead = lead_modes(h0, v, 0.3)
    for barrier in (0.2, 1.0, 3.0):
        r = smatrix_from_modes(lead, lead, [np.array([[barrier]]), h0], [v, v, v])
        t = r.transmission()
        assert 0.0 < t < 1.0
        assert r.noise_trace() == pytest.approx(t * (1.0 - t), rel=1e-12)
        assert fano_factor([r.noise_trace()], [t]) == pytest.approx(1.0 - t, rel=1e-12)


def test_clean_strip_is_noiseless():
    h, v = strip_blocks(12)
    r = smatrix(h, v, [h] * 5, [v] * 6, h, v, E)
    assert r.transmission() == pytest.approx(open_channels_strip(12, E), rel=1e-12)
    assert abs(r.noise_trace()) < 1e-11 and fano_factor([r.noise_trace()], [r.transmission()]) < 1e-12


def test_fano_factor_ballistic_diffusive_localised():
    """24-channel strip (ℓ ≈ 14 columns, Nℓ ≈ 340): F ≈ 0.14 at 3 columns, 1/3 within
    sampling error at 30 and 45, and a 6-site strip 500 columns long (L ≈ 10 Nℓ) has F > 0.8."""
    lengths = (3, 30, 45)
    runs = np.array([_strip_sweep(32, lengths, seed) for seed in range(24)])  # (seed, L, 2)
    f = runs[:, :, 0].sum(axis=0) / runs[:, :, 1].sum(axis=0)
    assert f[0] < 0.2
    assert f[1:] == pytest.approx([FANO_DIFFUSIVE] * 2, abs=0.03)  # ±4σ of 24 strips
    # the conductance is Ohmic there: G ≈ N/(1 + L/ℓ) with one ℓ for both lengths
    g = runs[:, 1:, 1].mean(axis=0)
    ell = lengths[1:] / (open_channels_strip(32, E) / g - 1.0)
    assert ell[0] == pytest.approx(ell[1], rel=0.1)
    loc = np.array([_strip_sweep(6, (500,), seed)[0] for seed in range(8)])
    assert fano_factor(loc[:, 0], loc[:, 1]) > 0.8


def test_nested_noise_equals_independent_solves():
    width, lengths = 12, (4, 17, 40)
    h, v = strip_blocks(width)
    lead, trunk, nested = _nested_strip(width, lengths, seed=3)
    for L, r in zip(lengths, nested):
        alone = smatrix_from_modes(lead, lead, trunk[:L] + [h], [v] * (L + 2))
        assert r.noise_trace() == pytest.approx(alone.noise_trace(), rel=1e-10)


def test_fano_factor_input_checks():
    assert np.isnan(fano_factor([], [])) and np.isnan(fano_factor([0.0], [0.0]))
    assert fano_factor([-1e-17, 0.5], [1.0, 2.0]) == pytest.approx(0.5 / 3.0)  # round-off of τ = 1
    with pytest.raises(ValueError, match="same length"):
        fano_factor([0.1, 0.2], [1.0])
    with pytest.raises(ValueError, match="noise"):
        fano_factor([-0.1], [1.0])
