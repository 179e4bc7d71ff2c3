"""newsbot: a self-hosted Discord news bot with extractive summaries."""

__version__ = "0.1.0"
