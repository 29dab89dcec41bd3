"""The bundle as data: a manifest, and a reproducible zip for offline review or archiving.

The same input gives the same bytes: entries sorted, timestamps and permissions fixed,
the manifest serialised with sorted keys.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from crunch_cli.errors import WorkspaceExistsError
from crunch_cli.push.bundle import Bundle, BundleFile

MANIFEST = "manifest.json"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
COPY_BLOCK = 1 << 20


def archive_path(bundle: Bundle, file: BundleFile) -> str:
    return file.path if file.kind == "code" else f"{bundle.model_directory}/{file.path}"


def manifest(bundle: Bundle) -> dict[str, Any]:
    return {
        "type": bundle.type,
        "mainFilePath": bundle.main_file_path,
        "modelDirectoryPath": bundle.model_directory,
        "codeSize": bundle.size("code"),
        "modelSize": bundle.size("model"),
        "files": [
            {
                "path": archive_path(bundle, file),
                "kind": file.kind,
                "size": file.blob.size,
                "sha256": file.blob.sha256,
                **({"origin": file.origin} if file.origin else {}),
            }
            for file in bundle.files
        ],
    }


def export_zip(bundle: Bundle, target: Path, *, force: bool = False) -> None:
    if target.exists() and not force:
        raise WorkspaceExistsError(f"{target} already exists", hint="pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            entries = sorted(bundle.files, key=lambda file: archive_path(bundle, file))
            for file in entries:
                with archive.open(_info(archive_path(bundle, file)), "w") as sink:
                    _copy(file, sink)
            text = json.dumps(manifest(bundle), indent=2, sort_keys=True) + "\n"
            archive.writestr(_info(MANIFEST), text)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so the permission bits below are honoured
    info.external_attr = 0o100644 << 16
    return info


def _copy(file: BundleFile, sink: Any) -> None:
    if file.blob.content is not None:
        sink.write(file.blob.content)
        return
    assert file.blob.source is not None
    with open(file.blob.source, "rb") as source:
        shutil.copyfileobj(source, sink, COPY_BLOCK)
