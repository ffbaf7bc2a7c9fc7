"""Self-consistent LSDA atomic-sphere (LMTO-ASA) potentials.

Modules: ``mesh`` (log mesh, quadrature), ``xc`` (PW92 LSDA), ``radial`` (scalar-relativistic
radial solver), ``atom`` (free-atom LSDA, frozen core), ``parameters`` (C, Δ, γ, ξ),
``sphere`` (sphere density and potential), ``bands`` (TB-LMTO bands, Fermi level, moments),
``scf`` (self-consistency for elements and NiFe alloys), ``io`` (potential files).
"""
