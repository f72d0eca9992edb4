"""A real SMTP server on loopback (aiosmtpd) that keeps every message in a Maildir.

``make run`` starts it so the demo's emails can be read under ``var/mail``; the tests start
one on a free port and read what the store sent. A test sink can also refuse chosen
recipients with a permanent (5xx) or temporary (4xx) reply (``refuse``) and hold a recipient
at RCPT time until released (``stall``), to prove bounce handling and crash recovery.
"""

import argparse
import asyncio
import mailbox
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(str(path), create=True)
        for sub in ("tmp", "new", "cur"):  # also when the folder existed already
            (path / sub).mkdir(exist_ok=True)
        # address (lower case) -> SMTP reply, e.g. "550 5.1.1 No such user" or "451 4.3.0 Busy"
        self.refuse: dict[str, str] = {}
        # addresses held at RCPT until ``release()``; ``stalled`` lists those waiting now
        self.stall: set[str] = set()
        self.stalled: list[str] = []
        self._released: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.loop = asyncio.get_running_loop()
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        if address.lower() in self.stall:
            self._released = self._released or asyncio.Event()
            self.stalled.append(address.lower())
            await self._released.wait()
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def release(self) -> None:
        """Let stalled recipients go on (from any thread)."""
        self.stall.clear()
        if self._released is not None and self.loop is not None:
            self.loop.call_soon_threadsafe(self._released.set)

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.maildir.add(message)
        return "250 Message accepted for delivery"


def start(*, host: str = "127.0.0.1", port: int = 1025, path: Path) -> Controller:
    controller = Controller(MaildirHandler(path), hostname=host, port=port)
    controller.start()
    return controller


def messages(path: Path) -> list:
    return [
        message_from_bytes(m.as_bytes(), policy=default_policy)
        for m in mailbox.Maildir(str(path), create=True)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--path", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    controller = start(host=args.host, port=args.port, path=args.path)
    print(f"Mail sink on {args.host}:{args.port}, messages in {args.path}/new", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()
