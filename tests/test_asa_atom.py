"""Free LSDA atoms against the NIST atomic reference data (Kotochigova et al., PRA 55, 191 (1997)).

NIST LSD uses VWN correlation, this code PW92; the eigenvalues differ by < 1 mHa.
Cu LSD (non-relativistic, 3d10 4s1): 4s majority −0.184013 Ha, 3d minority −0.197109 Ha.
"""

import numpy as np
import pytest

from tbmto.asa.atom import configuration, core_shells, free_atom, valence_channels
from tbmto.asa.radial import NONRELATIVISTIC


def test_cu_lsd_eigenvalues_match_nist():
    atom = free_atom("Cu", c=NONRELATIVISTIC)
    assert atom.converged
    assert atom.eigenvalue("4s", 0) / 2 == pytest.approx(-0.184013, abs=1e-3)
    assert atom.eigenvalue("3d", 1) / 2 == pytest.approx(-0.197109, abs=1e-3)
    m = atom.mesh
    assert m.integrate(4 * np.pi * m.r**2 * atom.density.sum(0)) == pytest.approx(29.0, abs=1e-8)
    spin = m.integrate(4 * np.pi * m.r**2 * (atom.density[0] - atom.density[1]))
    assert spin == pytest.approx(1.0, abs=1e-8)


def test_configurations_and_core():
    assert configuration("Cu")[(3, 2)] == 10 and configuration("Cu")[(4, 0)] == 1
    assert configuration("Fe")[(3, 2)] == 6 and configuration("Fe")[(4, 0)] == 2
    assert (5, 0) not in configuration("Pd")
    assert valence_channels("Ni") == (4, 4, 3)
    assert valence_channels("Pd") == (5, 5, 4)
    assert sum(core_shells("Ni").values()) == 18
    assert sum(core_shells("Pd").values()) == 36
    with pytest.raises(ValueError, match="unknown element"):
        configuration("Xx")
