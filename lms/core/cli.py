"""The ``flask lms`` command group; each package adds its commands to it."""

from flask.cli import AppGroup

lms_cli = AppGroup("lms", help="lms administration commands.")
