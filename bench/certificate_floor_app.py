"""The floor for verification: a minimal Flask + SQLAlchemy endpoint doing the same indexed
lookup as ``GET /api/v1/verify/{code}`` (the certificate by code, its successor's code) and
answering the same fields, with none of lms's code around it: no code normalisation, rate
limit, schema or error handling of ours.

    BENCH_DATABASE_URL=postgresql+psycopg://... gunicorn -w 5 bench.certificate_floor_app:app
"""

import os

import sqlalchemy as sa
from flask import Flask

engine = sa.create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=5)
certificates = sa.Table("certificates", sa.MetaData(), autoload_with=engine)
successor = certificates.alias("successor")
LOOKUP = (
    sa.select(certificates, successor.c.code.label("successor_code"))
    .outerjoin(successor, successor.c.id == certificates.c.replaced_by_id)
    .where(certificates.c.code == sa.bindparam("code"))
)

app = Flask(__name__)


@app.get("/floor/verify/<code>")
def verify(code):
    with engine.connect() as conn:
        row = conn.execute(LOOKUP, {"code": code.replace("-", "").upper()}).mappings().first()
    if row is None:
        return {"message": "not found"}, 404
    return {
        "status": "revoked" if row["revoked_at"] else "replaced" if row["replaced_at"] else "valid",
        "code": row["code"],
        "learner_name": row["learner_name"],
        "course": row["course_slug"],
        "course_title": row["course_title"],
        "version": row["version_label"],
        "organization": row["organization_name"],
        "completed_at": row["completed_at"].isoformat(),
        "issued_at": row["issued_at"].isoformat(),
        "revoked_at": row["revoked_at"],
        "revocation_reason": row["revocation_reason"],
        "replaced_by": row["successor_code"],
    }
