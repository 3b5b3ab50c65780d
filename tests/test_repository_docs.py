"""The repository carries its own documentation: a short README that leads into docs/, and no
file that points outside the repository, where someone who cloned it has nothing."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README_MAX_CHARACTERS = 12_000
# Built in two parts so that this file does not contain what it looks for.
OUTSIDE_DOCS = "../" + "shared"
# Vendored third-party files, kept as their authors wrote them.
VENDORED = ("static/vendor/",)

FENCED_CODE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _tracked_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [name for name in listed.stdout.decode().split("\0") if name]


def _text(path: Path) -> str | None:
    """The file's text, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _prose(markdown: str) -> str:
    """The markdown without code, where brackets and paths are not links."""
    return INLINE_CODE.sub("", FENCED_CODE.sub("", markdown))


def _anchors(markdown: str) -> set[str]:
    """The fragment ids GitHub gives the headings: lower case, punctuation dropped, spaces as hyphens."""
    anchors: set[str] = set()
    for heading in HEADING.findall(FENCED_CODE.sub("", markdown)):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        candidate, repeat = slug, 0
        while candidate in anchors:
            repeat += 1
            candidate = f"{slug}-{repeat}"
        anchors.add(candidate)
    return anchors


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def test_the_readme_is_short_and_names_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert len(readme) < README_MAX_CHARACTERS, f"README.md has {len(readme)} characters"
    assert "make demo" in readme
    assert "make test" in readme


def test_docs_holds_the_design_the_contract_operations_and_benchmarks():
    for name in ("architecture.md", "api.md", "operations.md", "benchmarks.md", "benchmarks.csv"):
        assert (DOCS / name).is_file(), f"docs/{name} is missing"


def test_no_tracked_file_points_outside_the_repository():
    pointing_outside = []
    for name in _tracked_files():
        if name.startswith(VENDORED) or not (ROOT / name).is_file():
            continue
        text = _text(ROOT / name)
        if text is not None and OUTSIDE_DOCS in text:
            pointing_outside.append(name)
    assert pointing_outside == []


def _relative_links(document: Path) -> list[str]:
    prose = _prose(document.read_text())
    targets = INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)
    # Absolute links (http:, https:, mailto: ...) are not the repository's to check.
    return [target for target in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|//)", target, re.IGNORECASE)]


def _is_broken(document: Path, target: str) -> bool:
    """Whether a relative link leaves the repository, names no file, or names a heading the file lacks."""
    path_part, _, fragment = target.partition("#")
    linked = (document.parent / path_part).resolve() if path_part else document
    if not linked.is_relative_to(ROOT) or not linked.exists():
        return True
    return bool(fragment) and linked.suffix == ".md" and fragment not in _anchors(linked.read_text())


@pytest.mark.parametrize("document", _documents(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_in_the_repository(document: Path):
    broken = [target for target in _relative_links(document) if _is_broken(document, target)]
    assert broken == [], f"{document.relative_to(ROOT)} links to what is not there"


def test_the_link_check_sees_the_readme_links_into_docs():
    # Guards the patterns above: a check that finds no links would pass whatever the links say.
    assert "docs/architecture.md" in _relative_links(ROOT / "README.md")
    assert _is_broken(ROOT / "README.md", "docs/no-such-file.md")
    assert _is_broken(ROOT / "README.md", "docs/api.md#no-such-heading")
