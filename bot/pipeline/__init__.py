"""The pipeline: fetch, parse, extract, summarise, cluster; imports only bot.core."""
