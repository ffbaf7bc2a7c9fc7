"""The RGF engine deep in the Anderson-localised regime (exponentially small transmission).

Each k∥ of a supercell slab is a quasi-one-dimensional disordered wire: once the slab is longer
than its localisation length, Tr t t† falls exponentially and ∂S/∂θ is dominated by narrow
resonances. These tests check that the engine stays exact there, so that such behaviour in a
transport study is physics of the lateral cell, not round-off:

* the 1D Anderson chain (box disorder of width W, hopping −1) has ⟨ln T⟩ = −2γL with the
  perturbative inverse localisation length γ = W²/(96 (1 − E²/4)) (Thouless, in *Ill-Condensed
  Matter*, Les Houches 1978; Kappus & Wegner, Z. Phys. B 45, 15 (1981) away from the band-centre
  anomaly), down to T ~ 1e−20 and below;
* var ln T ≈ −2⟨ln T⟩ (single-parameter scaling, Anderson, Thouless, Abrahams & Fisher,
  PRB 22, 3519 (1980));
* nested lengths (one sweep) equal independent solves at T ≪ 1, and ∂S/∂ε agrees with a central
  finite difference of S where a resonance makes it large.
"""

import numpy as np
import pytest

from tbmto.wfm import Branch, lead_modes, smatrix_from_modes, smatrix_nested
from tbmto.wfm.models import chain_blocks

W = 1.5
E = 0.5
GAMMA = W**2 / (96.0 * (1.0 - E**2 / 4.0))  # per site
LENGTHS = (150, 300, 450, 600, 750, 900)


def _chain(rng, n_sites):
    return [np.array([[x]]) for x in rng.uniform(-W / 2, W / 2, n_sites)]


def _nested_lnT(seed, lead):
    """ln T of the first L sites of one disordered chain for every L of LENGTHS (one sweep)."""
    h0, v = chain_blocks()
    trunk = _chain(np.random.default_rng(seed), LENGTHS[-1])
    branches = [Branch(at=L, h=[h0], v=[v, v], right=lead) for L in LENGTHS]
    res = smatrix_nested(lead, trunk, [v] * len(trunk), branches)
    return np.array([np.log(r.transmission()) for r in res]), res


@pytest.fixture(scope="module")
def samples():
    lead = lead_modes(*chain_blocks(), E)
    out = [_nested_lnT(seed, lead) for seed in range(48)]
    return lead, np.array([o[0] for o in out]), [o[1] for o in out]


def test_anderson_chain_localisation_length(samples):
    _, lnT, _ = samples
    mean = lnT.mean(axis=0)
    slope = np.polyfit(np.array(LENGTHS, float), mean, 1)[0]
    assert mean[-1] < -40.0  # T ~ 1e-18 and below at the longest length
    assert slope == pytest.approx(-2.0 * GAMMA, rel=0.1)
    # single-parameter scaling: var ln T ≈ −2 <ln T> (within sampling error of 48 chains)
    ratio = lnT.var(axis=0)[-3:] / (-2.0 * mean[-3:])
    assert np.all((ratio > 0.6) & (ratio < 1.6))


def test_localised_chain_unitary_and_nested_equals_independent(samples):
    lead, _, results = samples
    h0, v = chain_blocks()
    trunk = _chain(np.random.default_rng(0), LENGTHS[-1])
    for i, L in enumerate(LENGTHS[::2]):
        r = results[0][2 * i]
        assert r.unitarity_error() < 1e-10
        alone = smatrix_from_modes(lead, lead, trunk[:L] + [h0], [v] * (L + 2))
        t_nested, t_alone = r.transmission(), alone.transmission()
        assert t_nested == pytest.approx(t_alone, rel=1e-8)  # relative, even at T ~ e^-40


def test_derivative_matches_finite_difference_at_a_resonance():
    """∂S/∂ε (uniform on-site shift of the slab) against (S(ε+δ) − S(ε−δ))/2δ on the localised
    chain whose |∂S/∂ε|² is largest among 48: a narrow resonance, not round-off."""
    lead = lead_modes(*chain_blocks(), E)
    _, v = chain_blocks()
    L = 300
    runs = []
    for seed in range(48):
        h = _chain(np.random.default_rng(1000 + seed), L)
        runs.append((h, smatrix_from_modes(lead, lead, h, [v] * (L + 1), dh_slab=[np.eye(1)] * L)))
    traces = np.array([r.damping_trace() for _, r in runs])
    # heavy tail: the largest |∂S/∂ε|² is a resonance, far above the typical chain's
    assert traces.max() > 50.0 * np.median(traces)
    h, r = runs[int(np.argmax(traces))]
    delta = 1e-7 / np.sqrt(r.damping_trace())
    sp = smatrix_from_modes(lead, lead, [b + delta for b in h], [v] * (L + 1)).S
    sm = smatrix_from_modes(lead, lead, [b - delta for b in h], [v] * (L + 1)).S
    fd = (sp - sm) / (2 * delta)
    # dK = -dH: the engine's dS is for H(θ), i.e. ∂S/∂ε of the shifted on-site energies
    err = np.max(np.abs(fd - r.dS)) / np.max(np.abs(r.dS))
    assert err < 1e-5
