"""study.storage URLs: checked and normalized at the edge, the password masked wherever shown."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle

import pytest

from ablate.vocab.url import StorageURL, mask_url


def test_mask_url_hides_every_password_in_text_and_keeps_the_rest() -> None:
    text = "a postgresql://ablate:p@ss:w0rd@db.lan:5432/x and redis://:tok@h/0, sqlite:///x.db"
    assert mask_url(text) == "a postgresql://ablate:***@db.lan:5432/x and redis://:***@h/0, sqlite:///x.db"
    assert mask_url("postgresql://ablate@db/x") == "postgresql://ablate@db/x"


def test_the_password_rides_along_for_connecting_and_nowhere_else() -> None:
    url = StorageURL.parse("postgresql://ablate:s3cret@db.lan/study")
    assert url.url == "postgresql+psycopg://ablate:***@db.lan/study"  # psycopg (3), not psycopg2
    assert url.secret() == "postgresql+psycopg://ablate:s3cret@db.lan/study"
    assert url.without_password() == "postgresql+psycopg://ablate@db.lan/study"
    assert url.where() == "db.lan:5432"
    assert "s3cret" not in json.dumps(dataclasses.asdict(url)) + repr(url) + str(url)
    for copied in (pickle.loads(pickle.dumps(url)), copy.deepcopy(url)):  # to a worker, and back
        assert copied.secret() == url.secret() and copied == url


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("not a url", "must be a database URL such as"),
        ("mysql://a:s3cret@h/d", "must be a postgresql:// or sqlite:/// URL"),
        ("postgresql://a:s3cret@/d", "must name a host and a database"),
        ("sqlite://", "must name the database file"),
    ],
)
def test_a_malformed_url_says_what_must_hold_without_the_password(text: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule) as err:
        StorageURL.parse(text)
    assert "s3cret" not in str(err.value)
