"""Certificates: issuing on completion, the PDF, verification, revocation and reissue."""
