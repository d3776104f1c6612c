import io
import os
import tarfile

import pytest

from imprepro.io import sha256_file
from imprepro.sources import SourceError, deb_filename, download, extract, fetch


def make_deb(path, files):
    """Writes a minimal Debian package (ar archive holding data.tar.xz) with ``files``."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    members = [(b"debian-binary", b"2.0\n"), (b"control.tar.xz", b""), (b"data.tar.xz", data.getvalue())]
    with open(path, "wb") as f:
        f.write(b"!<arch>\n")
        for name, blob in members:
            f.write(name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + b"100644".ljust(8) + str(len(blob)).encode().ljust(10) + b"`\n")
            f.write(blob + (b"\n" if len(blob) % 2 else b""))


@pytest.fixture
def fonts_deb(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    deb = downloads / deb_filename("fonts-symbola", "1.0")
    make_deb(deb, {"usr/share/fonts/truetype/x/Font.ttf": b"font bytes", "usr/share/doc/fonts-symbola/copyright": b"free", "usr/share/other.txt": b"skip"})
    params = {"sources": {"fonts-symbola": {"version": "1.0", "sha256": sha256_file(deb), "licence": "free"}}}
    return params, downloads, deb


def test_extract_takes_only_the_suite_files(fonts_deb, tmp_path):
    params, downloads, deb = fonts_deb
    manifest = download(params, downloads, tmp_path / "raw")
    assert (tmp_path / "raw/fonts-symbola/usr/share/fonts/truetype/x/Font.ttf").read_bytes() == b"font bytes"
    assert not (tmp_path / "raw/fonts-symbola/usr/share/other.txt").exists()
    assert manifest["sources"]["fonts-symbola"]["files_extracted"] == 2
    assert (tmp_path / "raw/manifest.json").exists()


def test_corrupt_file_is_named_and_leaves_no_output(fonts_deb, tmp_path):
    params, downloads, deb = fonts_deb
    download(params, downloads, tmp_path / "raw")
    deb.write_bytes(deb.read_bytes()[:-10] + b"corrupted!")
    with pytest.raises(SourceError, match=str(deb)) as err:
        download(params, downloads, tmp_path / "raw")
    assert "sha256" in str(err.value) and "delete it" in str(err.value)
    assert not (tmp_path / "raw").exists(), "a failed download must not leave an output that looks complete"


def test_missing_file_without_apt_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get on PATH
    spec = {"version": "2.0", "sha256": "0" * 64, "licence": "x"}
    with pytest.raises(SourceError, match="apt-get not found") as err:
        fetch("fonts-symbola", spec, tmp_path / "downloads")
    assert str(tmp_path / "downloads" / "fonts-symbola_2.0_all.deb") in str(err.value)


def test_not_a_deb_is_reported(tmp_path):
    bogus = tmp_path / "x.deb"
    bogus.write_bytes(b"hello")
    with pytest.raises(SourceError, match="not a Debian package"):
        extract(bogus, ["*"], tmp_path / "out")


def test_failed_apt_download_is_explained(tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "apt-get").write_text("#!/bin/sh\necho 'E: Unable to locate package' >&2\nexit 100\n")
    os.chmod(fake / "apt-get", 0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    spec = {"version": "9.9", "sha256": "0" * 64, "licence": "x"}
    with pytest.raises(SourceError, match="Unable to locate package") as err:
        fetch("fonts-symbola", spec, tmp_path / "downloads")
    assert "apt-get update" in str(err.value)
