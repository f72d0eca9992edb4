#!/usr/bin/env python
"""Friendbook: a small OpenID Connect identity provider standing in for a social network.

Run it on its own: ``python sandbox/idp/manage.py friendbook_serve 127.0.0.1:8001``
(migrates its own SQLite database under sandbox/idp/var/, seeds demo users, serves).
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ["DJANGO_SETTINGS_MODULE"] = "friendbook.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
