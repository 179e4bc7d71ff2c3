"""What an operator's tooling reads: Prometheus metrics, health, the heartbeat, JSON logs.

Wired by :mod:`bot.app` only; imports nothing of ours but :mod:`bot.core`."""
