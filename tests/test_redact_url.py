"""redact_url: connection URLs are printed without their password."""

from __future__ import annotations

import pytest

from burn.privacy.redact import redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://burn:s3cr@t:x@db.example:5432/burn?sslmode=require",
            "postgresql://burn:[redacted]@db.example:5432/burn?sslmode=require",
        ),
        ("postgresql://burn@db/burn", "postgresql://burn@db/burn"),
        ("postgresql://:pw@db/burn", "postgresql://:[redacted]@db/burn"),
        (
            "postgresql://db/burn?password=pw&sslmode=disable",
            "postgresql://db/burn?password=[redacted]&sslmode=disable",
        ),
        ("host=db password=pw dbname=burn", "host=db password=[redacted] dbname=burn"),
        ("sqlite:///data/burn.sqlite", "sqlite:///data/burn.sqlite"),
        ("", ""),
        (None, None),
    ],
)
def test_redact_url_hides_the_password_and_keeps_where(url: str | None, shown: str | None) -> None:
    assert redact_url(url) == shown
