"""WSGI entry point: ``gunicorn 'wsgi:app'``; Celery workers: ``celery -A wsgi.celery worker``."""

import gc

from lms import create_app

app = create_app()
celery = app.extensions["celery"]

# What the app built at start (routes, schemas, SQLAlchemy's mappers, templates: some 240,000
# objects) lives as long as the process. Freezing it keeps the collector from walking all of it
# in every full collection: a pause of about 200 ms in the middle of some request otherwise.
gc.collect()
gc.freeze()
