"""WSGI entry point: ``gunicorn 'wsgi:app'``; Celery workers: ``celery -A wsgi.celery worker``."""

from lms import create_app

app = create_app()
celery = app.extensions["celery"]
