"""City-scale benchmark (`make bench`): a seeded synthetic city, the engine's
rules timed one by one and together, and the same checks as SQL in DuckDB
spatial and PostGIS, with their findings compared.

Modules: city (the synthetic city), peers_sql (the SQL of the shared checks and
the rule tables), peers_duckdb, peers_postgis, pgcluster (a throwaway
PostgreSQL cluster, reusable by tests), worker (one measured job in a fresh
process), compare (engine vs SQL findings), __main__ (the run and the report).
"""
