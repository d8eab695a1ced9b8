"""process-memory://, the default rate-limit storage: fixed-window counters in this process,
expired as they are read, with no timer thread (memory:// started one about every 10 ms)."""

import threading
import time

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from lms.core.extensions import limiter
from lms.core.ratelimit_storage import ProcessMemoryStorage


def test_the_app_counts_limits_in_process_memory(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "process-memory://"
    assert isinstance(limiter.storage, ProcessMemoryStorage)


def test_a_fixed_window_limits_then_lets_through_when_the_window_ends():
    storage = ProcessMemoryStorage()
    window = FixedWindowRateLimiter(storage)
    item = parse("3 per second")
    assert [window.hit(item, "k") for _ in range(4)] == [True, True, True, False]
    assert window.hit(item, "other")  # every key has its own count
    remaining = window.get_window_stats(item, "k")
    assert remaining.remaining == 0 and remaining.reset_time > time.time()
    time.sleep(1.05)
    assert window.hit(item, "k")


def test_counts_can_be_cleared_and_reset():
    storage = ProcessMemoryStorage()
    assert storage.incr("a", 60) == 1 and storage.incr("a", 60, amount=2) == 3
    assert storage.decr("a") == 2 and storage.get("a") == 2
    storage.clear("a")
    assert storage.get("a") == 0
    storage.incr("b", 60)
    storage.incr("c", 60)
    assert storage.reset() == 2 and storage.get("b") == 0


def test_expired_keys_are_dropped_and_no_thread_is_started(monkeypatch):
    monkeypatch.setattr("lms.core.ratelimit_storage.SWEEP_EVERY", 0.0)
    storage = ProcessMemoryStorage()
    threads = threading.active_count()
    for n in range(500):
        storage.incr(f"key-{n}", 0.01)
    time.sleep(0.02)
    storage.incr("fresh", 60)  # a pass drops the 500 keys whose window ended
    assert list(storage._counts) == ["fresh"]
    assert threading.active_count() == threads


def test_the_per_request_pass_runs_only_when_app_wide_limits_are_configured(make_app, monkeypatch):
    monkeypatch.setattr(limiter, "_limiter", None)
    monkeypatch.setattr(limiter, "_storage", None)
    plain = make_app()
    assert limiter._check_request_limit not in plain.before_request_funcs[None]
    monkeypatch.setattr(limiter, "_limiter", None)
    monkeypatch.setattr(limiter, "_storage", None)
    # Flask-Limiter adds configured defaults to the one limiter object: keep them to this test.
    monkeypatch.setattr(limiter.limit_manager, "_default_limits", [])
    limited = make_app(RATELIMIT_DEFAULT="2 per minute")
    assert limiter._check_request_limit in limited.before_request_funcs[None]
    client = limited.test_client()
    statuses = [client.get("/api/v1/auth/csrf").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # a default limit an operator configures still applies
