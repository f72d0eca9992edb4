class BannerError(Exception):
    """A banner request that cannot be served; the message is safe to show."""
