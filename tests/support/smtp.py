"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives, and can be
stopped and started again on the same port to play an outage."""

import threading
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class SmtpSink:
    def __init__(self, port: int, delay: float = 0.0):
        self.port = port
        self.delay = delay  # seconds per message, to play a slow server
        self.envelopes = []
        self._lock = threading.Lock()
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.envelopes.append(envelope)
        return "250 OK"

    def start(self) -> "SmtpSink":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self):
        with self._lock:
            envelopes = list(self.envelopes)
        return [message_from_bytes(e.content, policy=policy.default) for e in envelopes]

    def recipients(self) -> list[str]:
        with self._lock:
            return [rcpt for e in self.envelopes for rcpt in e.rcpt_tos]

    def wait_for(self, count: int, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.envelopes) >= count:
                    return len(self.envelopes)
            time.sleep(0.05)
        with self._lock:
            return len(self.envelopes)
