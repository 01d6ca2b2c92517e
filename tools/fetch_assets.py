"""Fetch the JavaScript the built book needs, so that its pages load nothing from a CDN.

By default a Jupyter Book 1 page loads MathJax from a CDN. This script takes it from
the npm registry with ``npm pack`` and unpacks what the pages use into
``book/_assets/_static/vendor/`` (ignored by git). ``_config.yml`` copies
``book/_assets/`` into the built site (``html_extra_path``), so the files land in
``_static/vendor/``, and points ``mathjax_path`` at them.

Run ``python tools/fetch_assets.py``; it does nothing when the assets are already
there for the same versions. ``--force`` fetches again.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
VENDOR = BOOK / "_assets" / "_static" / "vendor"
STAMP = VENDOR / ".fetched.json"

# npm spec -> (folder under vendor/, paths inside the package to keep)
PACKAGES: dict[str, tuple[str, list[str]]] = {
    "mathjax@3.2.2": ("mathjax", ["es5", "LICENSE"]),
}

# Source maps are only read by a browser's developer tools; leave them out.
SKIP_SUFFIXES = (".map",)


def want() -> dict:
    return {"packages": sorted(PACKAGES)}


def npm_pack(spec: str, dest: Path) -> Path:
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(dest)],
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout)
    return dest / info[0]["filename"]


def unpack(tarball: Path, keep: list[str], target: Path) -> None:
    """Extract the kept paths of an npm tarball (rooted at ``package/``) into target."""
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = member.name.split("/", 1)[1]
            if rel.endswith(SKIP_SUFFIXES):
                continue
            if not any(rel == k or rel.startswith(k + "/") for k in keep):
                continue
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)


def fetch(force: bool = False) -> bool:
    """Fetch the assets unless present; return True when something was fetched."""
    if not force and STAMP.is_file() and json.loads(STAMP.read_text()) == want():
        print(f"book assets already in {VENDOR.relative_to(ROOT)}")
        return False
    if shutil.which("npm") is None:
        sys.exit("npm is needed to fetch the book's JavaScript assets (apt-get install npm)")
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    VENDOR.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for spec, (folder, keep) in PACKAGES.items():
            print(f"npm pack {spec}")
            unpack(npm_pack(spec, Path(tmp)), keep, VENDOR / folder)
    STAMP.write_text(json.dumps(want(), indent=1) + "\n")
    size = sum(p.stat().st_size for p in VENDOR.rglob("*") if p.is_file())
    print(f"book assets in {VENDOR.relative_to(ROOT)}: {size / 2**20:.1f} MiB")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="fetch even when present")
    fetch(force=parser.parse_args().force)


if __name__ == "__main__":
    main()
