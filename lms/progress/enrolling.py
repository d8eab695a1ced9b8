"""Enrolling: in a published course's current version, in the organization whose seat the
learner holds; from an accepted invitation; and keeping the learner's name copy current."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.errors import Forbidden, NotFound, RuleViolation
from lms.core.extensions import db
from lms.core.transaction import recover_from
from lms.courses.models import Course, CourseVersion, Lesson
from lms.memberships import services as memberships
from lms.memberships.models import MemberStatus, Organization, OrganizationMember
from lms.progress.models import Enrollment


def _published_version(course_slug: str) -> CourseVersion:
    version = db.session.scalar(
        sa.select(CourseVersion)
        .join(Course, Course.id == CourseVersion.course_id)
        .where(Course.slug == course_slug, CourseVersion.is_published)
    )
    if version is None:
        raise NotFound("No such course.")
    return version


def _seat_organization(user: User, organization_slug: str | None) -> Organization:
    stmt = (
        sa.select(Organization)
        .join(OrganizationMember, OrganizationMember.organization_id == Organization.id)
        .where(
            OrganizationMember.user_id == user.id,
            OrganizationMember.status == MemberStatus.ACTIVE,
            OrganizationMember.holds_seat == sa.true(),
        )
    )
    if organization_slug:
        stmt = stmt.where(Organization.slug == organization_slug)
    organizations = db.session.scalars(stmt).all()
    if not organizations:
        raise Forbidden(
            "You need a seat in an organization to enroll. Ask your OSPO for an invitation."
        )
    if len(organizations) > 1:
        raise RuleViolation(
            "You hold seats in several organizations: say which one this enrollment is for.",
            errors={"organization": [o.slug for o in organizations]},
        )
    organization = organizations[0]
    if memberships.seat_capacity(organization.id) <= 0:
        raise Forbidden(f"{organization.name}'s membership has lapsed; new enrollments wait.")
    return organization


def enroll(
    user: User, course_slug: str, organization_slug: str | None = None
) -> tuple[Enrollment, bool]:
    """Enroll in a published course's current version. Enrolling twice returns the first."""
    version = _published_version(course_slug)
    existing = _enrollment_for(user.id, version.course_id)
    if existing is not None:
        return existing, False
    organization = _seat_organization(user, organization_slug)
    required_total = db.session.scalar(
        sa.select(sa.func.count()).where(Lesson.version_id == version.id, Lesson.is_required)
    )
    first_lesson = db.session.scalar(
        sa.select(Lesson.id)
        .where(Lesson.version_id == version.id)
        .order_by(Lesson.position)
        .limit(1)
    )
    enrollment = Enrollment(
        user_id=user.id,
        learner_name=user.name,
        learner_email=user.email,
        course_slug=course_slug,
        organization_id=organization.id,
        course_id=version.course_id,
        version_id=version.id,
        required_total=required_total,
        resume_lesson_id=first_lesson,
    )
    try:
        with db.session.begin_nested():
            db.session.add(enrollment)
    except sa.exc.IntegrityError:
        # A second tab enrolled at the same moment: theirs is ours.
        existing = _enrollment_for(user.id, version.course_id)
        if existing is None:
            raise
        return existing, False
    return enrollment, True


def _enrollment_for(user_id: int, course_id: int) -> Enrollment | None:
    return db.session.scalar(
        sa.select(Enrollment).where(
            Enrollment.user_id == user_id, Enrollment.course_id == course_id
        )
    )


def rename_learner(user: User) -> None:
    """Copy a changed name onto the person's enrollments (the report sorts by the copy)."""
    db.session.execute(
        sa.update(Enrollment)
        .where(Enrollment.user_id == user.id)
        .values(learner_name=user.name)
        .execution_options(synchronize_session=False)
    )


def enroll_from_invitation(invitation, member) -> None:
    """Invitations that named courses enroll the learner when accepted."""
    if not member.holds_seat or not invitation.courses:
        return
    user = db.session.get(User, member.user_id)
    organization = db.session.get(Organization, member.organization_id)
    for slug in invitation.courses:
        # A course unpublished since the invitation: nothing to enroll in, the rest goes on.
        with recover_from(NotFound, Forbidden):
            enroll(user, slug, organization.slug)
