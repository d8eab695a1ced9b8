# Copy to instance/config.py. Environment variables LMS_<NAME> override what is set here.

# ENV = "production"
# SECRET_KEY = "a long random string"  # python -c "import secrets; print(secrets.token_hex())"
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://lms:secret@127.0.0.1/lms"
# BASE_URL = "https://learn.example.org"

# Mail: "file" (default, writes .eml files to instance/mail), "console" or "smtp"
# MAIL_BACKEND = "smtp"
# MAIL_FROM = "OSPO training <training@example.org>"
# MAIL_SMTP_HOST = "smtp.example.org"
# MAIL_SMTP_PORT = 587
# MAIL_SMTP_STARTTLS = True
# MAIL_SMTP_USERNAME = "training@example.org"
# MAIL_SMTP_PASSWORD = "..."

# Rate limits are kept per process by default; share them between workers with Redis:
# RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"
