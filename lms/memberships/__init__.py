"""Organizations, memberships and seat grants, members and roles, invitations, seat accounting."""
