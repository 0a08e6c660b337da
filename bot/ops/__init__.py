"""Running mlquiz in production: health and readiness, metrics, logs, draining on shutdown."""
