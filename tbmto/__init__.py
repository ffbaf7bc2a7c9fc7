"""tbmto: first-principles spin transport with tight-binding muffin-tin orbitals.

Computes the resistivity, anisotropic magnetoresistance and Gilbert damping of
disordered magnetic alloys and thermally disordered metals from the scattering
matrix of a lead | slab | lead system (Brataas, Tserkovnyak, Bauer & Kelly, *Spin pumping and spin transfer*, arXiv:1108.0385, Sec. IV).

Sub-packages
------------
wfm        model-agnostic wave-function matching: lead modes, S-matrix, dS/dθ
lmto       screened structure constants, potential functions, SOC, spin rotation
asa        self-consistent LSDA atomic-sphere potentials
"""

__version__ = "0.1.0"
