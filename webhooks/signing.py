"""Standard Webhooks signatures (https://www.standardwebhooks.com, spec v1).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature is
``v1,`` + base64(HMAC-SHA256(key, content)), where the key is the base64-decoded part of the
``whsec_…`` secret. ``webhook-signature`` holds one or more signatures separated by spaces (one
per secret while a secret rotates); a receiver accepts the message when any one matches.
"""

import base64
import hashlib
import hmac

from .models import SECRET_PREFIX


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of ``body`` for ``msg_id`` at ``timestamp`` (Unix seconds)."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(*, secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for a request signed with every secret given."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets
        ),
    }
