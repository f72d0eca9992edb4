"""Cleaning untrusted claims: dropped or reduced, never guessed, never beyond the grant."""

from datetime import date

import pytest

from social import claims, consent

TODAY = date(2025, 6, 15)


@pytest.mark.parametrize(
    ("birthdate", "band"),
    [
        ("1994-05-12", "25-34"),
        ("2007-06-15", "18-24"),  # 18 today
        ("2007-06-16", "under-18"),
        ("1950-01-01", "65+"),
        ("1990-13-45", ""),
        ("1990-02-30", ""),
        ("0000-05-12", ""),  # year withheld: no age
        ("2999-01-01", ""),
        ("1800-01-01", ""),
        ("12/05/1994", ""),
        ("1994-05-12T00:00:00", ""),
        (19940512, ""),
        (None, ""),
        ("9" * 10_000, ""),
    ],
)
def test_age_band_from_birthdate(birthdate, band):
    assert claims.age_band(birthdate, today=TODAY) == band


def test_leap_day_birthday_is_kept_without_year():
    profile = claims.clean_profile(
        {"birthdate": "2000-02-29"}, {consent.BIRTHDAY, consent.AGE}, today=TODAY
    )
    assert profile["birthday_month"] == 2 and profile["birthday_day"] == 29
    assert profile["age_band"] == "25-34"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("female", "female"),
        (" Male ", "male"),
        ("Non-Binary", "nonbinary"),
        ("banana", ""),
        ("", ""),
        (["female"], ""),
        ("f" * 100, ""),
    ],
)
def test_gender_values(value, expected):
    assert claims._choice(value, claims.GENDERS) == expected


def test_thousands_of_interests_are_capped_deduplicated_and_cleaned():
    raw = ["x" * 500, 42, None, {"name": "Chess"}, " Tea ", "TEA", "bad\x00char"]
    raw += [f"Interest {i}" for i in range(5000)]
    cleaned = claims.clean_interests(raw)
    assert len(cleaned) == claims.MAX_INTERESTS
    assert cleaned[:3] == ["Chess", "Tea", "Interest 0"]
    assert all(len(i) <= claims.MAX_INTEREST_LENGTH for i in cleaned)


@pytest.mark.parametrize("value", [None, 7, {"a": 1}, "", []])
def test_interests_of_the_wrong_shape_become_nothing(value):
    assert claims.clean_interests(value) == []


def test_friend_list_keeps_subjects_only():
    raw = [{"sub": "12", "name": "Ben"}, 13, "14", {"name": "no sub"}, True, "x" * 500, "14"]
    assert claims.clean_friend_uids(raw) == ["12", "13", "14"]


def test_profile_holds_only_granted_categories():
    raw = {
        "name": "Ana",
        "birthdate": "1994-05-12",
        "gender": "female",
        "relationship_status": "married",
        "interests": ["Tea"],
        "friends": [{"sub": "2"}],
    }
    profile = claims.clean_profile(raw, {consent.BASIC, consent.GENDER}, today=TODAY)
    assert profile == {"display_name": "Ana", "gender": "female"}


def test_identity_only_strips_everything_else_from_extra_data():
    extra = {
        "userinfo": {"sub": "1", "email": "a@b.c", "birthdate": "1994-05-12", "friends": []},
        "id_token": {"sub": "1", "iss": "x", "gender": "female"},
        "raw": "anything",
    }
    assert claims.identity_only(extra) == {
        "userinfo": {"sub": "1", "email": "a@b.c"},
        "id_token": {"sub": "1", "iss": "x"},
    }
    assert claims.identity_only({"id": "9", "email": "a@b.c", "likes": ["x"]}) == {
        "id": "9",
        "email": "a@b.c",
    }
    assert claims.identity_only("garbage") == {}


def test_released_categories_follow_the_claims_present():
    assert claims.released_categories({"sub": "1", "gender": None, "interests": []}) == {
        consent.BASIC,
        consent.GENDER,
        consent.INTERESTS,
    }
