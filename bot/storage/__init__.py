"""Storage backends behind :class:`bot.core.ports.Store`; SQLite is the embedded default."""
