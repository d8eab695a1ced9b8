"""Where the certificates package plugs into the earlier packages and the app: the one place
(``lms.create_app`` calls ``init_app``), so that imports keep pointing one way."""

from flask import Flask


def _issue_certificate(enrollment_id, **extra) -> None:
    from lms.certificates.services import issue_certificate

    issue_certificate(enrollment_id)


def init_app(app: Flask) -> None:
    from lms.certificates import badges, links, pdfs
    from lms.certificates.rendering import warn_without_harfbuzz_subset
    from lms.courses import views as course_views
    from lms.progress import certificate_links
    from lms.progress.signals import enrollment_completed

    # Issued in the transaction that completes an enrollment. Connecting twice (one app per
    # test) is harmless: blinker keeps one connection.
    enrollment_completed.connect(_issue_certificate, weak=False)
    # The signed credential, attached to the PDF.
    pdfs.credential_json_for = badges.credential_json
    # The organization's uploaded logo, on the PDF.
    from lms.memberships import logos

    pdfs.organization_logo = logos.logo_png
    # The links on the learner's dashboard, the enrollments API and the course page.
    certificate_links.links_for = links.links_for
    course_views.learner_certificate = links.for_course
    # Sponsors named on certificates, and certificates counted in the sponsors' impact report
    # (certificates and sponsorships both build on memberships, side by side).
    from lms.certificates import services
    from lms.sponsorships import impact
    from lms.sponsorships import services as sponsorships

    services.sponsor_for = sponsorships.sponsor_for_certificate
    impact.count_certificates = services.count_issued
    warn_without_harfbuzz_subset()
