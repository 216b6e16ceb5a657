"""Local notifications: the daemon's outbox and socket, the per-user helper, the backends."""
