"""The ingest pipeline: fetch, parse, extract, summarise, cluster, refresh. Imports only core."""
