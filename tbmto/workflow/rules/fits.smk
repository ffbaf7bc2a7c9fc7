# Fits and tables: the plan's runs table joined with every transport result → transport, fits and
# summary tables, and the plan's systems table joined with the potentials → the potentials table
# (CSV + parquet). The runs table names the result files, which keeps the command short for
# thousands of files; params carry the fit settings (method, g factor, damping source,
# linearisation of the reported spin-orbit parameters) only. With fit.spin_pumping (and damping)
# the mixing conductances of every configuration's longest slab (rule pumping) give the
# spin-pumping prediction of the interface damping next to the fitted intercept.


rule pumping:
    input:
        structure=lambda w: PLAN.structure_path(w.system, PLAN.lengths[-1], int(w.conf)),
        potentials=lambda w: [
            PLAN.potential_path(PLAN.system(w.system).potential.label),
            PLAN.potential_path(PLAN.system(w.system).lead_potential.label),
        ],
    output:
        f"{ROOT}/pumping/{{system}}/c{{conf}}.json",
    params:
        args=PLAN.pumping_args(),
    log:
        f"{LOGS}/pumping/{{system}}/c{{conf}}.log",
    threads: PLAN.ranks
    resources:
        tasks=PLAN.ranks,
        mpi=PLAN.launcher,
    shell:
        "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1; "
        "{resources.mpi} -n {resources.tasks} tbmto mixing --structure {input.structure} "
        "--potentials {input.potentials} {params.args} --no-progress --out {output} > {log} 2>&1"


rule fit:
    input:
        runs=PLAN.runs_table,
        systems=PLAN.systems_table,
        transport=PLAN.transport_files(),
        pumping=PLAN.pumping_files(),
        potentials=[PLAN.potential_path(label) for label in PLAN.potentials()],
    output:
        PLAN.table_paths(),
    params:
        args=PLAN.fit_args(),
        pumping=f"--pumping {PLAN.pumping_plan_table}" if PLAN.spin_pumping else "",
        out=PLAN.tables_dir,
    log:
        f"{LOGS}/fit.log",
    shell:
        "tbmto fit --runs {input.runs} --systems-table {input.systems} {params.args} {params.pumping} "
        "--out-dir {params.out} > {log} 2>&1"
