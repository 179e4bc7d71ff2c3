"""Use cases every transport calls: feeds, briefings, search, summaries."""
