# Domain-wall studies (config `domain_walls:`, seed Sec. IV B): one disordered lead | F | lead
# structure per configuration (nested half and full lengths), a Walker wall of every type and
# width in it (tbmto wall: alpha_DW and P*beta from S and dS/dr_w, MPI over k), the bulk reference
# of the same structure with m along the wire (tbmto transport --damping at both lengths), the
# domain-walls tables and the seed's Figs. 8-9. params carry only what each job depends on.


rule wall_structure:
    output:
        PLAN.wall_structure_path("{dw}", "{conf}"),
    params:
        args=lambda w: PLAN.wall_build_args(w.dw, int(w.conf)),
    log:
        f"{LOGS}/domain_walls/{{dw}}/c{{conf}}_build.log",
    shell:
        "tbmto build {params.args} --out {output} > {log} 2>&1"


def _wall_potentials(w):
    dw = PLAN.domain_wall(w.dw)
    return [PLAN.potential_path(dw.potential.label), PLAN.potential_path(dw.lead_potential.label)]


rule wall:
    input:
        structure=lambda w: PLAN.wall_structure_path(w.dw, w.conf),
        potentials=_wall_potentials,
    output:
        f"{ROOT}/domain_walls/{{dw}}/{{wall}}/l{{lam}}/c{{conf}}.json",
    params:
        args=lambda w: PLAN.wall_args(w.dw),
    log:
        f"{LOGS}/domain_walls/{{dw}}/{{wall}}/l{{lam}}/c{{conf}}.log",
    threads: PLAN.ranks
    resources:
        tasks=PLAN.ranks,
        mpi=PLAN.launcher,
    shell:
        "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1; "
        "{resources.mpi} -n {resources.tasks} tbmto wall --structure {input.structure} "
        "--potentials {input.potentials} --kind {wildcards.wall} --lambda-nm {wildcards.lam} {params.args} "
        "--no-progress --out {output} > {log} 2>&1"


rule wall_bulk:
    input:
        structure=lambda w: PLAN.wall_structure_path(w.dw, w.conf),
        potentials=_wall_potentials,
    output:
        half=f"{ROOT}/domain_walls/{{dw}}/bulk/half/c{{conf}}.json",
        full=f"{ROOT}/domain_walls/{{dw}}/bulk/full/c{{conf}}.json",
    params:
        args=lambda w: PLAN.wall_bulk_args(w.dw),
        lengths=lambda w: PLAN.domain_wall(w.dw).bulk_lengths,
        tmp=lambda w: f"{ROOT}/domain_walls/{w.dw}/bulk/c{w.conf}_L",
    log:
        f"{LOGS}/domain_walls/{{dw}}/bulk/c{{conf}}.log",
    threads: PLAN.ranks
    resources:
        tasks=PLAN.ranks,
        mpi=PLAN.launcher,
    shell:
        # one nested sweep writes both lengths (atomically); each is then renamed into place
        "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1; "
        "{resources.mpi} -n {resources.tasks} tbmto transport --structure {input.structure} "
        "--potentials {input.potentials} {params.args} --no-progress --out '{params.tmp}{{L}}.json' > {log} 2>&1 "
        "&& mv {params.tmp}{params.lengths[0]}.json {output.half} && mv {params.tmp}{params.lengths[1]}.json {output.full}"


rule walls_table:
    input:
        records=PLAN.walls_plan_table,
        results=PLAN.wall_files(),
    output:
        PLAN.wall_table_paths(),
    params:
        out=PLAN.tables_dir,
        g=PLAN.fit["g_factor"],
    log:
        f"{LOGS}/walls_table.log",
    shell:
        "tbmto walls --records {input.records} --g-factor {params.g} --out-dir {params.out} > {log} 2>&1"


rule walls_figure:
    input:
        f"{ROOT}/tables/domain_walls.parquet",
    output:
        png=report(
            f"{ROOT}/figures/{{wfig}}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{wfig}"},
        ),
        pdf=f"{ROOT}/figures/{{wfig}}.pdf",
    params:
        tables=PLAN.tables_dir,
        stem=lambda w: f"{ROOT}/figures/{w.wfig}",
    log:
        f"{LOGS}/figures/{{wfig}}.log",
    shell:
        "export MPLBACKEND=Agg; tbmto plot {wildcards.wfig} --tables-dir {params.tables} --out {params.stem} "
        "> {log} 2>&1"


ruleorder: walls_figure > figure
