"""The load driver behind `make loadtest` and `make faultdrill`.

`loadtest.run` starts the course server in its production shape (private PostgreSQL and
Redis, gunicorn as the image runs it, a Celery worker and the scheduler as Compose runs
them), drives simulated students with Locust (`locustfile.py`, run from its own virtual
environment, `.venv-loadtest`) and reports from the client's log and the database.
`report` holds the arithmetic and `services` the private servers; neither imports Locust.
"""
