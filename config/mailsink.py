"""A real SMTP server on loopback (aiosmtpd) that keeps every message in a Maildir.

``make run`` starts it so the demo's emails can be read under ``var/mail``; the tests start
one on a free port and read what the store sent.
"""

import argparse
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
