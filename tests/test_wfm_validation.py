"""Bad input to the WFM engine gives a ValueError naming the offending block."""

import numpy as np
import pytest

from tbmto.wfm import lead_modes, smatrix
from tbmto.wfm.models import strip_blocks


@pytest.fixture
def blocks():
    h, v = strip_blocks(3)
    return h, v


def test_non_hermitian_slab_block_is_named(blocks):
    h, v = blocks
    bad = h.copy()
    bad[0, 1] += 0.1
    with pytest.raises(ValueError, match=r"h_slab\[2\].*Hermitian"):
        smatrix(h, v, [h, h, bad], [v] * 4, h, v, energy=0.2)


def test_non_hermitian_lead_block_is_named(blocks):
    h, v = blocks
    with pytest.raises(ValueError, match=r"h_right.*Hermitian"):
        smatrix(h, v, [h], [v, v], h + 0.3j * np.eye(3), v, energy=0.2)


def test_coupling_shape_mismatch_is_named(blocks):
    h, v = blocks
    with pytest.raises(ValueError, match=r"v_slab\[1\].*\(3, 4\)"):
        smatrix(h, v, [h, strip_blocks(4)[0]], [v, v, np.zeros((4, 3))], h, v, energy=0.2)
    with pytest.raises(ValueError, match=r"v_slab must have M\+1 = 3"):
        smatrix(h, v, [h, h], [v, v], h, v, energy=0.2)
    with pytest.raises(ValueError, match=r"v_left"):
        smatrix(h, np.zeros((3, 2)), [h], [v, v], h, v, energy=0.2)


def test_derivative_blocks_are_checked(blocks):
    h, v = blocks
    with pytest.raises(ValueError, match=r"dh_slab must have M = 2"):
        smatrix(h, v, [h, h], [v] * 3, h, v, energy=0.2, dh_slab=[h])
    with pytest.raises(ValueError, match=r"dh_slab\[0\].*Hermitian"):
        smatrix(h, v, [h], [v] * 2, h, v, energy=0.2, dh_slab=[1j * np.eye(3)])
    with pytest.raises(ValueError, match=r"dh_slab\[0\] must have shape"):
        smatrix(h, v, [h], [v] * 2, h, v, energy=0.2, dh_slab=[np.eye(2)])


def test_energy_and_values_are_checked(blocks):
    h, v = blocks
    with pytest.raises(ValueError, match="energy must be real"):
        smatrix(h, v, [h], [v, v], h, v, energy=0.2 + 0.01j)
    with pytest.raises(ValueError, match="energy must be a real scalar"):
        smatrix(h, v, [h], [v, v], h, v, energy="zero")
    with pytest.raises(ValueError, match="energy must be a real scalar"):
        smatrix(h, v, [h], [v, v], h, v, energy=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"h_slab\[0\] contains NaN"):
        smatrix(h, v, [h * np.nan], [v, v], h, v, energy=0.2)
    with pytest.raises(ValueError, match="at least one layer"):
        smatrix(h, v, [], [v], h, v, energy=0.2)
    with pytest.raises(ValueError, match="single 2-D array"):
        smatrix(h, v, h, [v, v], h, v, energy=0.2)


def test_band_edge_of_a_lead_is_reported():
    h, v = strip_blocks(1)
    with pytest.raises(ValueError, match="left lead.*band edge"):
        smatrix(h, v, [h], [v, v], h + 0.5, v, energy=-2.0)


def test_lead_modes_names_lead():
    h, v = strip_blocks(2)
    with pytest.raises(ValueError, match=r"h_left"):
        lead_modes(np.ones((2, 3)), v, 0.0, name="left lead")


def test_lost_channel_is_flagged_by_a_unitarity_warning():
    # drop one propagating mode from the lead: flux is no longer conserved over the
    # remaining channels and smatrix_from_modes must say so
    import dataclasses

    from tbmto.wfm import lead_modes, smatrix_from_modes

    h, v = strip_blocks(3)
    lead = lead_modes(h, v, 0.3)
    assert lead.n_modes >= 2
    broken = dataclasses.replace(lead, lam_right=lead.lam_right[1:], u_right=lead.u_right[:, 1:],
                                 vel_right=lead.vel_right[1:], lam_left=lead.lam_left[1:],
                                 u_left=lead.u_left[:, 1:], vel_left=lead.vel_left[1:])
    with pytest.warns(RuntimeWarning, match="not unitary"):
        res = smatrix_from_modes(broken, broken, [h + np.diag([0.9, -0.4, 0.2])], [v, v])
    assert res.unitarity_error() > 1e-3
