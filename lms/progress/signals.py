"""What the progress package tells later packages, without importing them."""

from blinker import Namespace

signals = Namespace()
# Sent once per enrollment, in the transaction that completed it (sender: the enrollment id).
# The certificates package issues the certificate on it.
enrollment_completed = signals.signal("enrollment-completed")
