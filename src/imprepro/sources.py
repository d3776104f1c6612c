"""Stage 1, download: fetch the default suite's real source files and verify their checksums.

The default suite is built from files that ship inside Debian packages (images, captions, sounds
and emoji fonts), fetched with ``apt-get download`` into ``data/downloads/`` and checked against
the sha256 pinned in params.yaml. The needed members are unpacked into ``data/raw/<package>/``
with a manifest of what was used. A .deb can also be put in ``data/downloads/`` by hand.
"""

from __future__ import annotations

import fnmatch
import io
import shutil
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

from imprepro.io import atomic_dir, sha256_file, timing, write_json

# Which members of each package the suite uses (paths inside the package's file system).
MEMBERS = {
    "tuxpaint-stamps-default": [
        "./usr/share/tuxpaint/stamps/*.png",
        "./usr/share/tuxpaint/stamps/*.txt",
        "./usr/share/tuxpaint/stamps/*.ogg",
        "./usr/share/doc/*/copyright",
    ],
    "fonts-noto-color-emoji": ["./usr/share/fonts/*.ttf", "./usr/share/doc/*/copyright"],
    "fonts-symbola": ["./usr/share/fonts/*.ttf", "./usr/share/doc/*/copyright"],
}
# Spoken descriptions (7,418 clips) are not used by the default suite.
EXCLUDE = ["*_desc*.ogg"]


class SourceError(RuntimeError):
    """A source file is missing, corrupt or could not be fetched; the message says what to do."""


def deb_filename(package: str, version: str) -> str:
    """The file name apt-get gives a package's .deb (an epoch's ':' becomes '%3a')."""
    return f"{package}_{version.replace(':', '%3a')}_all.deb"


def fetch(package: str, spec: dict[str, Any], downloads: Path) -> Path:
    """Returns the verified .deb for ``package``, downloading it when it is not there yet."""
    downloads.mkdir(parents=True, exist_ok=True)
    path = downloads / deb_filename(package, spec["version"])
    if not path.exists():
        _apt_download(package, spec["version"], downloads, path)
    actual = sha256_file(path)
    if actual != spec["sha256"]:
        raise SourceError(
            f"{path}: sha256 is {actual}, expected {spec['sha256']} (params.yaml "
            f"sources.{package}). The file is corrupt or a different version: delete it and re-run "
            "`imprepro download`."
        )
    return path


def _apt_download(package: str, version: str, downloads: Path, path: Path) -> None:
    if shutil.which("apt-get") is None:
        raise SourceError(
            f"apt-get not found, so {package}={version} cannot be fetched. On a Debian/Ubuntu "
            f"machine install apt, or download the Debian bookworm package by hand and put it at "
            f"{path}"
        )
    cmd = ["apt-get", "download", f"{package}={version}"]
    result = subprocess.run(cmd, cwd=downloads, capture_output=True, text=True)
    if result.returncode != 0 or not path.exists():
        raise SourceError(
            f"`{' '.join(cmd)}` failed: {result.stderr.strip() or result.stdout.strip()}\n"
            f"If the package lists are missing run `apt-get update` first; or put the .deb by "
            f"hand at {path}"
        )


def deb_data_tar(deb: Path) -> tarfile.TarFile:
    """Opens the data archive inside a .deb (an `ar` archive), without needing dpkg."""
    blob = deb.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise SourceError(f"{deb}: not a Debian package (no ar header)")
    offset = 8
    while offset + 60 <= len(blob):
        header = blob[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        start = offset + 60
        if name.startswith("data.tar"):
            return tarfile.open(fileobj=io.BytesIO(blob[start : start + size]), mode="r:*")
        offset = start + size + (size % 2)
    raise SourceError(f"{deb}: no data.tar member inside")


def wanted(name: str, patterns: list[str]) -> bool:
    """Whether a package member is used by the suite."""
    return any(fnmatch.fnmatch(name, p) for p in patterns) and not any(
        fnmatch.fnmatch(name, p) for p in EXCLUDE
    )


def extract(deb: Path, patterns: list[str], dest: Path) -> int:
    """Unpacks the wanted regular files of a .deb under ``dest``; returns how many."""
    count = 0
    with deb_data_tar(deb) as tar:
        for member in tar:
            if member.isfile() and wanted(member.name, patterns):
                target = dest / member.name.removeprefix("./")
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                count += 1
    return count


def download(params: dict[str, Any], downloads: Path, raw: Path) -> dict[str, Any]:
    """Runs the download stage: verified .debs in ``downloads``, unpacked members in ``raw``."""
    start = time.time()
    entries = {}
    with atomic_dir(raw) as tmp:
        for package, spec in params["sources"].items():
            if package not in MEMBERS:
                raise SourceError(
                    f"params.yaml sources.{package}: unknown source; known: {', '.join(MEMBERS)}"
                )
            deb = fetch(package, spec, downloads)
            count = extract(deb, MEMBERS[package], tmp / package)
            if count == 0:
                raise SourceError(f"{deb}: none of the expected files are inside")
            entries[package] = {
                "file": str(deb),
                "version": spec["version"],
                "sha256": spec["sha256"],
                "bytes": deb.stat().st_size,
                "licence": spec["licence"],
                "files_extracted": count,
            }
            print(f"download: {package} {spec['version']} ok, {count} files")
        manifest = {"sources": entries, **timing(start)}
        write_json(tmp / "manifest.json", manifest)
    return manifest
