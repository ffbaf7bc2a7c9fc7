# Fits and tables: all transport results of the study → transport, fits and summary tables
# (CSV + parquet). The transport files are named by grid (--systems/--lengths/...) rather than
# listed, which keeps the command short for thousands of files; params carry the grid and the
# fit settings (method, g factor, damping source) only.


rule fit:
    input:
        PLAN.transport_files(),
    output:
        PLAN.table_paths(),
    params:
        args=PLAN.fit_args(),
        out=PLAN.tables_dir,
    log:
        f"{LOGS}/fit.log",
    shell:
        "tbmto fit {params.args} --out-dir {params.out} > {log} 2>&1"
