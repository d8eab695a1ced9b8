"""Users, passwords, sessions, personal API tokens and roles."""
