import sqlalchemy as sa

from lms.accounts.models import User


def test_create_admin_with_password_option(runner, db):
    result = runner.invoke(
        args=["lms", "create-admin", "Boss@Uni.Example", "--password", "quiet harbour lantern"]
    )
    assert result.exit_code == 0, result.output
    assert "Created platform admin boss@uni.example" in result.output
    user = db.session.scalar(sa.select(User).where(User.email == "boss@uni.example"))
    assert user.is_platform_admin


def test_create_admin_prompts_for_the_password(runner, db):
    result = runner.invoke(
        args=["lms", "create-admin", "prompted@uni.example"],
        input="copper kettle morning\ncopper kettle morning\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User).where(User.email == "prompted@uni.example"))


def test_create_admin_with_a_weak_password_fails_cleanly(runner, db):
    result = runner.invoke(args=["lms", "create-admin", "weak@uni.example", "--password", "123"])
    assert result.exit_code == 1
    assert "Use at least 10 characters" in result.output
    assert db.session.scalar(sa.select(User).where(User.email == "weak@uni.example")) is None
