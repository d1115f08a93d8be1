"""Every setting is documented, and bad values are refused with the variable named."""

from dataclasses import fields
from pathlib import Path

import pytest

from prg.settings import Settings, load_settings

DOC = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()


@pytest.mark.parametrize("name", [f.name for f in fields(Settings)])
def test_every_setting_is_documented(name):
    assert f"`PRG_{name.upper()}`" in DOC


def test_settings_come_from_the_environment():
    settings = load_settings({"PRG_PORT": "9001", "PRG_DATABASE_URL": "postgresql://x@y/z"})
    assert settings.port == 9001 and not settings.is_sqlite


def test_a_bad_value_names_the_variable():
    with pytest.raises(ValueError, match="PRG_PORT"):
        load_settings({"PRG_PORT": "eighty"})
    with pytest.raises(ValueError, match="PRG_COOKIE_SECURE"):
        load_settings({"PRG_COOKIE_SECURE": "sometimes"})
