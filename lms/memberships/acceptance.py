"""Accepting an invitation, once, by a new or an existing person; the mailed link proves the
address. The seat is taken under a lock on the organization, so concurrent acceptances can
never take more seats than there are."""

from dataclasses import dataclass

import sqlalchemy as sa
from blinker import Namespace

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.errors import Conflict, Forbidden, Gone, NotFound, RuleViolation
from lms.core.extensions import db
from lms.core.tokens import hash_secret
from lms.memberships.members import add_member
from lms.memberships.models import Invitation, InvitationStatus, OrganizationMember
from lms.memberships.organizations import lock_organization

signals = Namespace()
# Sent after an invitation was accepted (same transaction): sender=the Invitation,
# member=the OrganizationMember. The progress package enrolls the named courses.
invitation_accepted = signals.signal("invitation-accepted")


def find_invitation(raw_token: str) -> Invitation:
    """The invitation behind a link, or an error that says why it no longer works."""
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == hash_secret(raw_token))
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid. Check that you copied all of it.")
    state = invitation.state(utcnow())
    if state == "expired":
        raise Gone("This invitation has expired. Ask the organization for a new one.")
    if state == InvitationStatus.REVOKED:
        raise Gone("This invitation was withdrawn by the organization.")
    if state == InvitationStatus.ACCEPTED:
        raise Gone("This invitation has already been used. Log in to continue.")
    return invitation


def account_holding(invitation: Invitation) -> User | None:
    """The account that already uses the invitation's address, if any."""
    return accounts.get_user_by_email(invitation.email)


@dataclass
class Acceptance:
    member: OrganizationMember
    user: User
    created_account: bool
    # An unverified account held the address and the acceptor took it over.
    claimed_account: bool = False


CLAIM_NOTICE = "An unconfirmed account uses this address; choosing a password here makes it yours."


def _require_name_and_password(name, password, message: str) -> None:
    if not name or not password:
        raise RuleViolation(
            message,
            errors={k: ["Required."] for k, v in (("name", name), ("password", password)) if not v},
        )


def accept_invitation(
    raw_token: str,
    user: User | None = None,
    *,
    name: str | None = None,
    password: str | None = None,
) -> Acceptance:
    """Accept as the logged-in ``user``, or as a new person with ``name`` and ``password``.

    The mailed link proves the address. When an unverified account holds it (someone may have
    registered it first), the acceptor takes that account over, logged in or not: ``name`` and
    ``password`` replace the account's, and every session and API token of it ends. A verified
    account must log in and accept.

    The seat is taken under a lock on the organization: when it is full, 409 "no free seats".
    """
    invitation = find_invitation(raw_token)
    organization = invitation.organization
    if user is not None and user.email != invitation.email:
        raise Forbidden(
            f"This invitation is for {invitation.email}; you are logged in as {user.email}."
        )
    holder = user or account_holding(invitation)
    created = claimed = False
    if holder is not None and not holder.email_verified:
        _require_name_and_password(
            name, password, CLAIM_NOTICE + " Choose your name and a new password."
        )
        user = accounts.claim_account(holder, name, password)
        claimed = True
    elif user is None:
        if holder is not None:
            raise Conflict(
                f"An account for {invitation.email} exists: log in, then accept the invitation."
            )
        _require_name_and_password(
            name, password, "Choose your name and a password to create your account."
        )
        user = accounts.register_user(invitation.email, password, name, verified=True)
        created = True
    # Whoever follows the mailed link proves the address. An unverified account therefore
    # never joins as it is: it joins only after the acceptor claimed it above.
    accounts.mark_email_verified(user)

    lock_organization(organization)
    member = add_member(organization, user, invitation.role)
    # Conditional update: two requests with the same link cannot both use it.
    used = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.status == InvitationStatus.PENDING)
        .values(status=InvitationStatus.ACCEPTED, accepted_at=utcnow(), accepted_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise Gone("This invitation has already been used.")
    db.session.refresh(invitation)
    invitation_accepted.send(invitation, member=member)
    return Acceptance(member=member, user=user, created_account=created, claimed_account=claimed)
