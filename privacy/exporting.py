"""Building the "Download my data" archive from the registry.

The archive is a zip with:

- ``README.md``: what each file holds and what each field means (from the registrations);
- ``<kind>.json`` for every registered kind: ``{"kind", "description", "fields", "count",
  "records"}`` where ``records`` is a list of objects with the documented fields;
- ``activitystreams/<kind>.json``: likes, follows and reviews as ActivityStreams 2.0
  ``OrderedCollection`` documents (https://www.w3.org/TR/activitystreams-core/);
- ``decisions.json``: recent decisions about the shopper with their stored reasons.

Values are JSON: datetimes ISO 8601 in UTC, decimals as strings (exact), ids as numbers.
"""

from __future__ import annotations

import json
import secrets
import zipfile
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from . import registry

FORMAT_VERSION = 1


def export_dir() -> Path:
    """Where archives are kept: a private directory, never served as media."""
    path = Path(settings.PRIVACY_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _dump(data) -> bytes:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode()


def collect(user) -> dict[str, dict]:
    """Every exported kind for ``user``: ``{kind: {"kind", "description", "fields", "count",
    "records"}}``, in registry order. Reads only; constant queries per registration."""
    out: dict[str, dict] = {}
    for registration in registry.registrations():
        if not registration.exported:
            continue
        if registration.export is not None:
            records = list(registration.export(user))
        else:
            records = list(registration.rows_of(user).order_by("pk").values(*registration.fields))
        out[registration.kind] = {
            "kind": registration.kind,
            "description": registration.description,
            "fields": dict(registration.fields),
            "count": len(records),
            "records": records,
        }
    return out


def readme(kinds: dict[str, dict], *, activity_kinds: list[str], generated_at) -> str:
    """The archive's README.md: one section per file, each field documented."""
    lines = [
        "# Your data at Agora",
        "",
        f"Generated {generated_at:%Y-%m-%d %H:%M} UTC (format version {FORMAT_VERSION}).",
        "",
        "Every file is JSON (UTF-8). Times are ISO 8601 in UTC, amounts are decimal strings in ",
        "the currency named next to them. Each `<kind>.json` holds `kind`, `description`, ",
        "`fields` (the documentation below), `count` and `records`.",
        "",
        "Likes, follows and reviews are also in `activitystreams/` as ActivityStreams 2.0 ",
        "(https://www.w3.org/TR/activitystreams-core/) collections, a format other social ",
        "services can import.",
        "",
    ]
    for kind, data in kinds.items():
        lines += [f"## {kind}.json ({data['count']} records)", "", data["description"], ""]
        for name, doc in data["fields"].items():
            lines.append(f"- `{name}`: {doc}")
        lines.append("")
    if activity_kinds:
        lines += ["## activitystreams/", ""]
        lines += [f"- `activitystreams/{kind}.json`" for kind in activity_kinds]
        lines.append("")
    lines += [
        "## decisions.json",
        "",
        "Recent decisions the store made about you (banners, recommendations, coupons, emails) "
        "with the reason stored when each was made: `source`, `what`, `why`, `at`, `url`.",
        "",
    ]
    return "\n".join(lines)


def build_archive(user) -> tuple[Path, list[str]]:
    """Write the archive for ``user`` into ``export_dir()`` under a random name; returns the
    path and the list of file names inside. Raises ``OSError`` if the disk write fails (the
    partial file is removed)."""
    generated_at = timezone.now()
    kinds = collect(user)
    path = export_dir() / f"agora-data-{secrets.token_urlsafe(16)}.zip"
    names: list[str] = []
    activity_kinds: list[str] = []
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for kind, data in kinds.items():
                archive.writestr(f"{kind}.json", _dump(data))
                names.append(f"{kind}.json")
            for registration in registry.registrations():
                if registration.activity_streams is None:
                    continue
                from .activitystreams import collection

                document = collection(
                    user,
                    registration.activity_streams(user),
                    summary=registration.description,
                )
                archive.writestr(f"activitystreams/{registration.kind}.json", _dump(document))
                names.append(f"activitystreams/{registration.kind}.json")
                activity_kinds.append(registration.kind)
            decisions = [asdict(d) for d in registry.recent_decisions(user, limit=1000)]
            archive.writestr(
                "decisions.json", _dump({"count": len(decisions), "records": decisions})
            )
            names.append("decisions.json")
            archive.writestr(
                "README.md", readme(kinds, activity_kinds=activity_kinds, generated_at=generated_at)
            )
            names.append("README.md")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, names


def export_path(export) -> Path | None:
    if not export.file_name:
        return None
    return export_dir() / Path(export.file_name).name


def export_file_delete(export) -> None:
    """Remove the archive file of ``export`` (if any)."""
    path = export_path(export)
    if path is not None:
        path.unlink(missing_ok=True)
