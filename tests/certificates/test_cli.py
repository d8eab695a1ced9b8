"""``flask lms certificates render``: the missing PDFs, or all of them again."""

import sqlalchemy as sa

from lms.certificates.models import Certificate


def clear_pdf(db, certificate):
    db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id == certificate.id)
        .values(pdf=None, pdf_rendered_at=None)
    )
    db.session.commit()


def rendered_at(db, certificate):
    db.session.expire_all()
    return db.session.get(Certificate, certificate.id).pdf_rendered_at


def test_render_missing_then_all(runner, db, certificate):
    result = runner.invoke(args=["lms", "certificates", "render"])
    assert result.exit_code == 0, result.output
    assert "Nothing to render." in result.output

    clear_pdf(db, certificate)
    result = runner.invoke(args=["lms", "certificates", "render", "--missing"])
    assert result.exit_code == 0, result.output
    assert "Rendered 1 certificate(s)." in result.output
    first = rendered_at(db, certificate)
    assert first is not None
    assert db.session.get(Certificate, certificate.id).pdf.startswith(b"%PDF-")

    result = runner.invoke(args=["lms", "certificates", "render", "--all", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Rendered 1 certificate(s)." in result.output
    assert rendered_at(db, certificate) > first


def test_workers_are_bounded(runner, db):
    result = runner.invoke(args=["lms", "certificates", "render", "--workers", "0"])
    assert result.exit_code == 2 and "--workers" in result.output
