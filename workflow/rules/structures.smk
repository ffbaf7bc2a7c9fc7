# Lead | slab(L) | lead structures with seeded disorder: one job per (system, L, configuration).
# Independent of the potentials (geometry only); params carry direction, supercell, L, a,
# composition, Δ, seed and configuration index.


rule structure:
    output:
        f"{ROOT}/structures/{{system}}/L{{L}}/c{{conf}}.extxyz",
    params:
        args=lambda w: PLAN.build_args(w.system, int(w.L), int(w.conf)),
    log:
        f"{LOGS}/structures/{{system}}/L{{L}}/c{{conf}}.log",
    shell:
        "tbmto build {params.args} --out {output} > {log} 2>&1"
