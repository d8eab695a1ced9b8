"""Site-wide pages: home, health check, API documentation."""
