"""Friendbook's extra scopes and the claims they release (userinfo only, to keep tokens small)."""

from allauth.idp.oidc.adapter import DefaultOIDCAdapter

EXTRA_SCOPES = {
    "birthday": "See your birthday",
    "gender": "See your gender",
    "relationship": "See your relationship status",
    "interests": "See your interests and the pages you like",
    "friends": "See your friends list",
}
REQUIRED_SCOPES = {"openid", "profile", "email"}


class FriendbookOIDCAdapter(DefaultOIDCAdapter):
    scope_display = {
        "openid": "Know who you are on Friendbook",
        "profile": "See your name",
        "email": "See your email address",
        **EXTRA_SCOPES,
    }

    def get_claims(self, purpose, user, client, scopes, email=None, **kwargs):
        claims = super().get_claims(purpose, user, client, scopes, email=email, **kwargs)
        if purpose != "userinfo":
            return claims
        profile = getattr(user, "friendbook", None)
        if profile is None:
            return claims
        scopes = set(scopes)
        if "birthday" in scopes:
            claims["birthdate"] = profile.birthdate or None
        if "gender" in scopes:
            claims["gender"] = profile.gender or None
        if "relationship" in scopes:
            claims["relationship_status"] = profile.relationship_status or None
        if "interests" in scopes:
            claims["interests"] = profile.interests
        if "friends" in scopes:
            claims["friends"] = [
                {"sub": self.get_user_sub(client, friend.user), "name": friend.user.get_full_name()}
                for friend in profile.friends.select_related("user").order_by("pk")
            ]
        return claims

    def populate_server_metadata(self, data):
        data["scopes_supported"] = [*data.get("scopes_supported", []), *EXTRA_SCOPES]
        data["claims_supported"] = [
            "sub",
            "name",
            "given_name",
            "family_name",
            "email",
            "email_verified",
            "birthdate",
            "gender",
            "relationship_status",
            "interests",
            "friends",
        ]
