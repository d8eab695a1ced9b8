"""Configuration: defaults, then instance/config.py, then LMS_* variables; production checks."""

import pytest

from lms import ConfigurationError, create_app


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
    monkeypatch.setenv("LMS_SECRET_KEY", "s3cret")
    with pytest.raises(ConfigurationError) as excinfo:
        create_app()
    message = str(excinfo.value)
    assert "LMS_SQLALCHEMY_DATABASE_URI" in message and "LMS_BASE_URL" in message
    assert "LMS_SECRET_KEY" not in message
    assert not (instance / "secret_key").exists()


def test_production_with_settings_starts_with_secure_cookies(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "s3cret")
    monkeypatch.setenv("LMS_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("LMS_BASE_URL", "https://learn.example.org")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] == "s3cret"


def test_unknown_mail_backend_is_a_clear_error(instance, monkeypatch):
    monkeypatch.setenv("LMS_MAIL_BACKEND", "pigeon")
    with pytest.raises(ConfigurationError, match="MAIL_BACKEND"):
        create_app()
