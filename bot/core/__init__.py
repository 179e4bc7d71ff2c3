"""The core: models, errors and ports. Imports nothing else of ours."""
