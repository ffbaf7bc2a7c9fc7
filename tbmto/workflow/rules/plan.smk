# The plan's tables (tbmto.config.StudyPlan.system_records / run_records): one row per system and
# one per transport result with all the metadata the result tables carry. The tables join on
# them, so no metadata travels through the transport jobs. params hold the records, so a config
# change that changes them (a new system, length, ...) rewrites the tables and refits, and
# nothing else; the tables are written atomically.


rule plan:
    output:
        systems=PLAN.systems_table,
        runs=PLAN.runs_table,
        interfaces=PLAN.interfaces_plan_table,
        walls=PLAN.walls_plan_table,
        pumping=PLAN.pumping_plan_table,
    params:
        systems=PLAN.system_records(),
        runs=PLAN.run_records(),
        interfaces=PLAN.interface_records(),
        walls=PLAN.wall_records(),
        pumping=PLAN.pumping_records(),
    run:
        PLAN.write_tables()
