"""The ``make run`` broker: kombu's filesystem transport, with message files that appear whole.

kombu's own ``filesystem`` channel creates ``<time>_<uuid>.<queue>.msg`` under its final name
and only then writes the message into it; a worker polling the folder at that moment moves the
still-empty file away, fails to decode it (``JSONDecodeError``) and stops, and ``make run``
stops everything with it (seen after about 20 minutes of the demo on a busy machine). Here a
message is written to a file whose name the channel never reads (``partial-<uuid>``, no
``.<queue>.msg`` suffix) and renamed into place with ``os.replace``, which is atomic on one
file system, so a reader finds either no file or the whole message.

Used when no ``REDIS_URL`` is set (``config.settings``: ``CELERY_BROKER_TRANSPORT``).
"""

import contextlib
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Add ``payload`` (a JSON-serialisable dict) to ``queue`` as one file that readers see
        complete or not at all. Raises ``kombu.exceptions.ChannelError`` when the folder cannot
        be written (as kombu's channel does)."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f"partial-{uuid.uuid4().hex}")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
