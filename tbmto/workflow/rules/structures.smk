# Lead | slab | lead structures with seeded disorder. Independent of the potentials (geometry
# only); params carry direction, supercell, lengths, a, composition, Δ, seed and configuration.
#
# geometry.nested (default): one structure per (system, configuration) for the longest length,
# built with --nested-lengths so that its prefixes are the shorter slabs (each increment with the
# exact concentration). Adding a length longer than all others keeps every prefix (the increments
# are seeded by their own layer range) but rebuilds the file, so its transport jobs rerun (one
# sweep covers all lengths); a length inserted between two others redraws the increment it splits.
# geometry.nested: false: one independent structure per (system, L, configuration).

if PLAN.nested:

    rule structure:
        output:
            f"{ROOT}/structures/{{system}}/c{{conf}}.extxyz",
        params:
            args=lambda w: PLAN.build_args(w.system, None, int(w.conf)),
        log:
            f"{LOGS}/structures/{{system}}/c{{conf}}.log",
        shell:
            "tbmto build {params.args} --out {output} > {log} 2>&1"

else:

    rule structure:
        output:
            f"{ROOT}/structures/{{system}}/L{{L}}/c{{conf}}.extxyz",
        params:
            args=lambda w: PLAN.build_args(w.system, int(w.L), int(w.conf)),
        log:
            f"{LOGS}/structures/{{system}}/L{{L}}/c{{conf}}.log",
        shell:
            "tbmto build {params.args} --out {output} > {log} 2>&1"
