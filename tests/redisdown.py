"""Redis that is down, for real: a local port nobody listens on (connections are refused)."""

import socket


def refused_port() -> int:
    """A loopback TCP port that nothing listens on (bound, then released): connecting to it is
    refused at once, as when Redis is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dead_redis_caches(caches: dict) -> dict:
    """``caches`` (a ``CACHES`` setting) with the default cache pointed at a refused port, for
    ``override_settings(CACHES=...)``."""
    return {"default": {**caches["default"], "LOCATION": f"redis://127.0.0.1:{refused_port()}/0"}}
