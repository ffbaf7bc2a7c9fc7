# Fits and tables: the plan's runs table joined with every transport result → transport, fits and
# summary tables, and the plan's systems table joined with the potentials → the potentials table
# (CSV + parquet). The runs table names the result files, which keeps the command short for
# thousands of files; params carry the fit settings (method, g factor, damping source,
# linearisation of the reported spin-orbit parameters) only.


rule fit:
    input:
        runs=PLAN.runs_table,
        systems=PLAN.systems_table,
        transport=PLAN.transport_files(),
        potentials=[PLAN.potential_path(label) for label in PLAN.potentials()],
    output:
        PLAN.table_paths(),
    params:
        args=PLAN.fit_args(),
        out=PLAN.tables_dir,
    log:
        f"{LOGS}/fit.log",
    shell:
        "tbmto fit --runs {input.runs} --systems-table {input.systems} {params.args} "
        "--out-dir {params.out} > {log} 2>&1"
