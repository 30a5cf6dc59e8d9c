"""Real Celery workers against a real Redis and the configured database."""
