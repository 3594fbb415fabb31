"""The docs are linked and self-contained: every relative link in README.md and docs/*.md reaches
a file of the repository (and an `#anchor` a heading of it, by GitHub's rules), every docs page
is reachable from the README, every public module is named in docs/, and no tracked file points
outside the repository.

Reads files only: it needs neither the C++ extension nor PyTorch.
"""

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "python" / "tapegrad"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def prose_lines(path):
    """The lines of a markdown file outside fenced code blocks."""
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            inside = not inside
            continue
        if not inside:
            yield line


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch == " ":
            kept.append("-")
        elif ch == "-" or cat[0] in "LNM" or cat == "Pc":
            kept.append(ch)
    return "".join(kept)


def anchors(path):
    seen, found = {}, set()
    for line in prose_lines(path):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(path):
    for line in prose_lines(path):
        line = re.sub(r"`[^`]*`", "", line)  # a link shown as code is not a link
        for m in LINK.finditer(line):
            yield m.group(1)


def is_external(target):
    return re.match(r"^[a-z][a-z0-9+.-]*:", target) is not None


def test_slug_follows_github():
    assert slug("Capture & replay: `tg.compile`") == "capture--replay-tgcompile"
    assert slug("Hooks and `retain_grad`") == "hooks-and-retain_grad"
    assert slug("1. Layers") == "1-layers"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    bad = []
    for target in links(page):
        if is_external(target):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if ROOT not in dest.parents and dest != ROOT:
            bad.append(f"{target}: outside the repository")
        elif not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{target}: no heading with that anchor")
    assert not bad, f"{page.relative_to(ROOT)}: " + "; ".join(bad)


def linked_pages(page):
    out = set()
    for target in links(page):
        path = target.partition("#")[0]
        if path and not is_external(path):
            dest = (page.parent / path).resolve()
            if dest.parent == DOCS and dest.suffix == ".md":
                out.add(dest)
    return out


def test_every_docs_page_is_reachable_from_the_readme():
    direct = linked_pages(ROOT / "README.md")
    index = DOCS / "index.md"
    assert index in direct, "README.md must link docs/index.md"
    reachable = direct | linked_pages(index)
    missing = [p.name for p in sorted(DOCS.glob("*.md")) if p not in reachable]
    assert not missing, f"not linked from README.md or docs/index.md: {missing}"


def public_modules():
    """tapegrad's modules without a leading underscore in any part, as tests/test_docstrings.py
    lists them, found from the source tree (no import)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if any(p.startswith("_") for p in parts) or parts[:1] == ["backends"] and len(parts) > 1:
            continue
        names.append(".".join(["tapegrad", *parts]))
    return names


def test_every_public_module_is_named_in_the_docs():
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    mods = public_modules()
    assert "tapegrad.nn.init" in mods and "tapegrad.__main__" not in mods
    missing = [m for m in mods if not re.search(rf"`{re.escape(m)}`", text)]
    assert not missing, (
        f"public modules that docs/ does not name (docs/index.md maps them): {missing}"
    )


def tracked_text_files():
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip("not a git checkout")
    for name in out.decode().split("\0"):
        path = ROOT / name
        if not name or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" not in data[:8192]:
            yield name, data.decode("utf-8", errors="replace")


# Spelled in pieces so that this file does not match itself.
OUTSIDE = [re.escape(".." + "/shared"), re.escape("/" + "work/"), re.escape("DESIGN" + ".md")]


def test_no_tracked_file_points_outside_the_repository():
    pattern = re.compile("|".join(OUTSIDE))
    bad = []
    for name, text in tracked_text_files():
        for n, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                bad.append(f"{name}:{n}: {line.strip()[:80]}")
    assert not bad, "references outside the repository:\n" + "\n".join(bad)
