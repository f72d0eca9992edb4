class OutreachError(Exception):
    """A request about marketing email that cannot be done; the message says why (HTTP 400)."""

    status = 400
