"""The third-party files served from exercises/static/vendor/: each folder records the
sha256 of its files in CHECKSUMS, and the code editor uses only what its bundle holds."""

import hashlib
import re
from pathlib import Path

import pytest

VENDOR = Path(__file__).resolve().parents[2] / "exercises/static/vendor"
# Each vendored folder and the files the pages load from it.
VENDORED = {
    "katex-0.16.47": {"katex.min.js", "katex.min.css", "contrib/auto-render.min.js", "LICENSE"},
    "codemirror-6.0.2": {"codemirror.min.js", "LICENSE", "README.md"},
}
CODEMIRROR = VENDOR / "codemirror-6.0.2"


def recorded_checksums(folder: Path) -> dict[str, str]:
    recorded = {}
    for line in (folder / "CHECKSUMS").read_text().splitlines():
        match = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line)
        if match:
            recorded[match.group(2)] = match.group(1)
    return recorded


def bundle_exports() -> set[str]:
    """The names on the bundle's global: esbuild writes them as `name:()=>local`."""
    text = (CODEMIRROR / "codemirror.min.js").read_text()
    groups = re.findall(r"\{((?:[\w$]+:\(\)=>[\w$]+,?)+)\}", text)
    exports = max(groups, key=len)
    return {pair.split(":")[0] for pair in exports.split(",")}


def test_every_vendored_folder_is_listed():
    assert {p.name for p in VENDOR.iterdir() if p.is_dir()} == set(VENDORED)


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_the_vendored_files_match_their_recorded_checksums(name):
    folder = VENDOR / name
    recorded = recorded_checksums(folder)
    shipped = {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name != "CHECKSUMS"
    }
    assert shipped == set(recorded)
    assert VENDORED[name] <= shipped
    for file, digest in recorded.items():
        assert hashlib.sha256((folder / file).read_bytes()).hexdigest() == digest, file


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_the_checksums_name_the_version(name):
    version = name.rsplit("-", 1)[1]
    assert version in (VENDOR / name / "CHECKSUMS").read_text().splitlines()[0]


def test_the_codemirror_bundle_is_one_script_with_one_global():
    text = (CODEMIRROR / "codemirror.min.js").read_text()
    assert text.startswith("var CM=(()=>{")
    assert not re.search(r"\b(?:import|require)\(|https?://[^\s\"']*\.js", text)


def test_the_code_editor_uses_only_what_the_bundle_exports():
    script = (VENDOR.parent / "exercises/code-editor.js").read_text()
    used = set(re.findall(r"\bCM\.(\w+)", script))
    assert {"EditorView", "EditorState", "python", "indentWithTab"} <= used
    assert used <= bundle_exports()


def test_the_readme_rebuilds_the_bundle_that_is_shipped():
    readme = (CODEMIRROR / "README.md").read_text()
    entry = re.search(r"```js\n(.*?)```", readme, re.S).group(1)
    exported = set(re.findall(r"^\s*(\w+),?$|\bexport \{ ([\w, ]+) \}", entry, re.M))
    names = {n.strip() for pair in exported for part in pair for n in part.split(",") if n.strip()}
    assert names == bundle_exports()
    assert "--format=iife --global-name=CM" in readme
    assert "--target=es2018" in readme


# Third-party files the tests use but the site never serves: tests/browser/assets/.
TEST_ASSETS = VENDOR.parents[2] / "tests/browser/assets"
TEST_ASSETS_USED = {
    "axe-core-4.14.1": {"axe.min.js", "LICENSE", "LICENSE-3RD-PARTY.txt"},
}


def test_every_test_asset_folder_is_listed():
    assert {p.name for p in TEST_ASSETS.iterdir() if p.is_dir()} == set(TEST_ASSETS_USED)


@pytest.mark.parametrize("name", sorted(TEST_ASSETS_USED))
def test_the_test_assets_match_their_recorded_checksums(name):
    folder = TEST_ASSETS / name
    recorded = recorded_checksums(folder)
    shipped = {p.name for p in folder.iterdir() if p.is_file() and p.name != "CHECKSUMS"}
    assert shipped == set(recorded) == TEST_ASSETS_USED[name]
    for file, digest in recorded.items():
        assert hashlib.sha256((folder / file).read_bytes()).hexdigest() == digest, file
    version = name.rsplit("-", 1)[1]
    assert version in (folder / "CHECKSUMS").read_text().splitlines()[0]


def test_the_axe_script_is_the_version_its_folder_names():
    (folder,) = [p for p in TEST_ASSETS.iterdir() if p.name.startswith("axe-core-")]
    version = folder.name.rsplit("-", 1)[1]
    assert (folder / "axe.min.js").read_text().startswith(f"/*! axe v{version}\n")
    assert (folder / "LICENSE").read_text().startswith("Mozilla Public License, version 2.0")


def test_the_test_assets_are_not_static_files():
    from django.contrib.staticfiles import finders

    assert finders.find("exercises/site.js") is not None
    assert finders.searched_locations
    assert not any(Path(d).is_relative_to(TEST_ASSETS.parent) for d in finders.searched_locations)
