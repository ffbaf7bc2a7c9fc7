"""Nested closures of one trunk (tbmto.wfm.smatrix_nested) against independent solves.

Every system "first ``at`` trunk layers + tail + right lead" must give the S-matrix and
∂S/∂θ_d of :func:`smatrix_from_modes` on the concatenated blocks, for branches leaving at
the start, in the middle and at the end of the trunk, with structurally sparse couplings
(MTO-like principal layers), coupling derivatives, and in the recomputation mode.
"""

import numpy as np
import pytest

from tbmto.wfm import Branch, lead_modes, smatrix_from_modes, smatrix_nested
from tbmto.wfm.models import fold_cells, strip_blocks


def _herm(n, rng, scale=1.0):
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return 0.5 * scale * (a + a.conj().T)


def _problem(seed=3, width=4, cells=2, p=9, n_d=2):
    """Random disordered strip (folded cells: couplings with zero rows), two leads, and
    random onsite/coupling derivatives."""
    rng = np.random.default_rng(seed)
    h, v = fold_cells(*strip_blocks(width), p=cells)
    n = len(h)
    trunk_h = [h + np.diag(rng.uniform(-1.0, 1.0, n)) for _ in range(p)]
    trunk_v = [v] * p
    dh = [[_herm(n, rng) for _ in range(p)] for _ in range(n_d)]
    # coupling derivatives on the structurally non-zero block only (entry 0: lead coupling)
    dv = [[None] + [np.where(v != 0, rng.normal(size=v.shape), 0.0) for _ in range(p - 1)]
          for _ in range(n_d)]
    lead = lead_modes(h, v, 0.3)
    return rng, h, v, trunk_h, trunk_v, dh, dv, lead


def _tail(rng, h, v, t, n_d, lead_in=False):
    n = len(h)
    th = [h + np.diag(rng.uniform(-0.4, 0.4, n)) for _ in range(t)]
    tv = [v] * (t + 1)
    tdh = [[_herm(n, rng) for _ in range(t)] for _ in range(n_d)]
    tdv = [[None if (j == 0 and lead_in) or j == t else np.where(v != 0, rng.normal(size=v.shape), 0.0)
            for j in range(t + 1)] for _ in range(n_d)]
    return th, tv, tdh, tdv


@pytest.mark.parametrize("memory_limit", [None, 1.0])
def test_nested_branches_equal_independent_systems(memory_limit):
    n_d = 2
    rng, h, v, trunk_h, trunk_v, dh, dv, lead = _problem(n_d=n_d)
    p = len(trunk_h)
    branches = []
    for at, t in ((0, 2), (3, 1), (3, 3), (6, 2), (p, 2)):
        th, tv, tdh, tdv = _tail(rng, h, v, t, n_d, lead_in=at == 0)
        branches.append(Branch(at=at, h=th, v=tv, right=lead, dh=tdh, dv=tdv))
    res = smatrix_nested(lead, trunk_h, trunk_v, branches, trunk_dh=dh, trunk_dv=dv, derivatives=n_d,
                         memory_limit_bytes=memory_limit)
    assert len(res) == len(branches)
    for br, r in zip(branches, res):
        a = br.at
        hs = trunk_h[:a] + list(br.h)
        vs = trunk_v[:a] + list(br.v)
        for d in range(n_d):
            dhs = dh[d][:a] + br.dh[d]
            dvs = dv[d][:a] + br.dv[d]
            ref = smatrix_from_modes(lead, lead, hs, vs, dh_slab=dhs, dv_slab=dvs)
            scale = np.max(np.abs(ref.dS))
            assert np.max(np.abs(r.S - ref.S)) < 1e-10
            assert np.max(np.abs(r.dS_all[d] - ref.dS)) < 1e-10 * scale
        assert r.unitarity_error() < 1e-10
        tens = r.damping_tensor()
        assert tens.shape == (n_d, n_d)
        assert np.allclose(tens, tens.T, rtol=0, atol=1e-12 * np.max(np.abs(tens)))
        assert np.isclose(tens[0, 0], np.sum(np.abs(r.dS_all[0]) ** 2), rtol=1e-12)


def test_nested_without_derivatives_and_different_right_leads():
    rng, h, v, trunk_h, trunk_v, *_ , lead = _problem(n_d=0)
    # a second right lead with a different onsite shift (another lead material)
    right2 = lead_modes(h + 0.2 * np.eye(len(h)), v, 0.3)
    branches = [Branch(at=4, h=[h], v=[v, v], right=lead), Branch(at=7, h=[h, h], v=[v, v, v], right=right2)]
    res = smatrix_nested(lead, trunk_h, trunk_v, branches)
    for br, r in zip(branches, res):
        ref = smatrix_from_modes(lead, br.right, trunk_h[: br.at] + list(br.h), trunk_v[: br.at] + list(br.v))
        assert r.dS is None and r.dS_all is None
        assert r.n_right == br.right.n_modes
        assert np.max(np.abs(r.S - ref.S)) < 1e-10
        assert abs(r.transmission() - ref.transmission()) < 1e-10 * max(1.0, ref.transmission())


def test_nested_errors_name_the_block():
    rng, h, v, trunk_h, trunk_v, *_ , lead = _problem(n_d=0)
    p = len(trunk_h)
    with pytest.raises(ValueError, match=r"branches\[0\]\.at must be an integer in \[0, 9\]"):
        smatrix_nested(lead, trunk_h, trunk_v, [Branch(at=p + 1, h=[h], v=[v, v], right=lead)])
    bad = [v, v[:, :-1]]
    with pytest.raises(ValueError, match=r"branch\[0\]\.v\[1\] must have shape"):
        smatrix_nested(lead, trunk_h, trunk_v, [Branch(at=2, h=[h], v=bad, right=lead)])
    with pytest.raises(ValueError, match=r"lead couplings are not supported"):
        smatrix_nested(lead, trunk_h, trunk_v, [Branch(at=2, h=[h], v=[v, v], right=lead,
                                                       dv=[[None, np.ones_like(v)]])], derivatives=1)
    with pytest.raises(ValueError, match="derivatives must be an integer"):
        smatrix_nested(lead, trunk_h, trunk_v, [Branch(at=2, h=[h], v=[v, v], right=lead)], derivatives=-1)
