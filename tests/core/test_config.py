"""Configuration: defaults, then instance/config.py, then LMS_* variables; production checks."""

import pytest

from lms import ConfigurationError, create_app

PRODUCTION_KEY = "a-production-secret-key-of-40-characters"


@pytest.fixture
def instance(tmp_path, monkeypatch):
    folder = tmp_path / "instance"
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(folder))
    for name in ("LMS_ENV", "LMS_SECRET_KEY", "LMS_SQLALCHEMY_DATABASE_URI", "LMS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return folder


def test_development_defaults_to_sqlite_in_the_instance_folder(instance):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'lms.sqlite3'}"
    assert app.config["MAIL_DIR"] == str(instance / "mail")
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"


def test_development_secret_key_is_generated_once_and_kept(instance):
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert len(first) >= 64
    assert first == second == (instance / "secret_key").read_text().strip()


def test_instance_config_then_environment_take_precedence(instance, monkeypatch):
    instance.mkdir(parents=True)
    (instance / "config.py").write_text(
        'MAIL_FROM = "from-file"\nBASE_URL = "https://file.example"\n'
    )
    app = create_app()
    assert app.config["MAIL_FROM"] == "from-file"
    monkeypatch.setenv("LMS_MAIL_FROM", "from-env")
    monkeypatch.setenv("LMS_MAIL_SMTP_PORT", "2525")
    app = create_app()
    assert app.config["MAIL_FROM"] == "from-env"
    assert app.config["MAIL_SMTP_PORT"] == 2525
    assert app.config["BASE_URL"] == "https://file.example"


def test_production_refuses_to_start_without_required_settings(instance, monkeypatch):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", PRODUCTION_KEY)
    with pytest.raises(ConfigurationError) as excinfo:
        create_app()
    message = str(excinfo.value)
    assert "LMS_SQLALCHEMY_DATABASE_URI" in message and "LMS_BASE_URL" in message
    assert "LMS_SECRET_KEY" not in message
    assert not (instance / "secret_key").exists()


@pytest.fixture
def production(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", PRODUCTION_KEY)
    monkeypatch.setenv("LMS_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("LMS_BASE_URL", "https://learn.example.org")


def test_production_with_settings_starts_with_secure_cookies(production):
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] == PRODUCTION_KEY
    # Error messages in the log never carry a statement's parameters (emails, hashes).
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    # A connection that died with a database restart is replaced before a request uses it
    # (tests/core/test_connection_ping.py).
    assert app.config["DATABASE_PING_AFTER_IDLE"] == 0.2


@pytest.mark.parametrize("key", ["s3cret", "x", "1234567890123456789012345678901"])
def test_production_refuses_a_short_secret_key(production, monkeypatch, key):
    monkeypatch.setenv("LMS_SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="LMS_SECRET_KEY must be .* at least 32 bytes"):
        create_app()


def test_production_accepts_a_secret_key_of_digits(production, monkeypatch):
    monkeypatch.setenv("LMS_SECRET_KEY", "1234567890" * 4)
    assert create_app().config["SECRET_KEY"] == "1234567890" * 4


def test_production_refuses_the_console_mail_backend(production, monkeypatch):
    # The console backend writes password reset and invitation links into the log.
    monkeypatch.setenv("LMS_MAIL_BACKEND", "console")
    with pytest.raises(ConfigurationError, match="console"):
        create_app()


def test_text_settings_stay_text_even_when_they_look_like_json(instance, monkeypatch):
    monkeypatch.setenv("LMS_SECRET_KEY", "12345678901234567890")
    monkeypatch.setenv("LMS_MAIL_SMTP_PASSWORD", "true")
    monkeypatch.setenv("LMS_MAIL_SMTP_USERNAME", "1e5")
    monkeypatch.setenv("LMS_MAIL_SMTP_HOST", "null")
    monkeypatch.setenv("LMS_MAIL_FROM", '"quoted"')
    monkeypatch.setenv("LMS_MAIL_SMTP_PORT", "2525")
    monkeypatch.setenv("LMS_MAIL_SMTP_STARTTLS", "true")
    app = create_app()
    config = app.config
    assert config["SECRET_KEY"] == "12345678901234567890"
    assert config["MAIL_SMTP_PASSWORD"] == "true"
    assert config["MAIL_SMTP_USERNAME"] == "1e5"
    assert config["MAIL_SMTP_HOST"] == "null"
    assert config["MAIL_FROM"] == '"quoted"'
    # Numbers and switches still get their type.
    assert config["MAIL_SMTP_PORT"] == 2525
    assert config["MAIL_SMTP_STARTTLS"] is True
    # The key signs the session and the CSRF token: the login page renders.
    response = app.test_client().get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True)


@pytest.mark.parametrize("hops", ["-1", '"two"', "1.5", "true"])
def test_trusted_proxies_must_be_a_hop_count(instance, monkeypatch, hops):
    monkeypatch.setenv("LMS_TRUSTED_PROXIES", hops)
    with pytest.raises(ConfigurationError, match="LMS_TRUSTED_PROXIES"):
        create_app()


def test_unknown_mail_backend_is_a_clear_error(instance, monkeypatch):
    monkeypatch.setenv("LMS_MAIL_BACKEND", "pigeon")
    with pytest.raises(ConfigurationError, match="MAIL_BACKEND"):
        create_app()
