"""Certificates: issuing, the PDF, verification, revocation, the Open Badges 3.0 credential."""
