"""Personal data held by the API: the personal access tokens a shopper created."""

from privacy import registry
from privacy.registry import Delete

registry.register(
    "api.PersonalAccessToken",
    kind="api_tokens",
    description="The access tokens you created for scripts or apps to use your account through "
    "our API. We keep only a fingerprint of each token, never the token itself.",
    owner="user",
    fields={
        "name": "What you said the token is for.",
        "prefix": "The token's first characters, to recognise it.",
        "scopes": "What it may do: read, write, staff.",
        "created_at": "When you created it (UTC, ISO 8601).",
        "expires_at": "When it stops working, if ever.",
        "last_used_at": "When it was last used.",
        "revoked_at": "When you revoked it, if you did.",
    },
    erase=Delete(),
)
