# Self-consistent LSDA-ASA potentials: one job per (composition, lattice, lattice constant) — the
# slab potential and the lead potential in the slab's lattice at the slab's lattice constant.
# params.args carries only the values this file depends on (composition, lattice, a, SCF
# settings; seed, occupations and alloy model for alloys),
# so a change of e.g. the transport k-mesh does not recompute potentials.


rule potential:
    output:
        f"{ROOT}/potentials/{{pot}}.json",
    params:
        args=lambda w: PLAN.scf_args(w.pot),
    log:
        f"{LOGS}/potentials/{{pot}}.log",
    shell:
        "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1; "
        "tbmto scf {params.args} --no-progress --out {output} > {log} 2>&1"
