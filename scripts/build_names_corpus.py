"""Regenerate tinygrad_seq/data/corpora/names.tsv from the 1990 US Census first-name lists.

The Census Bureau published, for its 1990 census, the frequency of first names among men
(dist.male.first) and women (dist.female.first); each line holds NAME, frequency in percent,
cumulative percent and rank. The data are a work of the US government and in the public domain.
The `names` package on PyPI (version 0.3.0, MIT-licensed code) ships both files unchanged; this
script reads them from that package's sdist and writes one small TSV with one line per name:

    name  sex  male_pct  female_pct

`name` is lower-cased; `sex` is the majority label, the list in which the name has the larger
percentage; on an exact tie 'female' wins, because the 1990 census counted more women than men,
so equal percentages mean more women. A name missing from a list has percentage 0.

Usage:
    python scripts/build_names_corpus.py --download          # pip-downloads the sdist (PyPI)
    python scripts/build_names_corpus.py PATH                # PATH: the sdist .tar.gz or a dir
    python scripts/build_names_corpus.py PATH --out FILE     # write elsewhere
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "names==0.3.0"
# sha256 of names-0.3.0.tar.gz as served by PyPI when the corpus was first built
SDIST_SHA256 = "726e46254f2ed03f1ffb5d941dae3bc67c35123941c29becd02d48d0caa2a671"
LISTS = {"male": "dist.male.first", "female": "dist.female.first"}
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tinygrad_seq/data/corpora/names.tsv"
HEADER = ("name", "sex", "male_pct", "female_pct")


def download_sdist(dest: Path) -> Path:
    """pip-download the `names` sdist into dest and return its path (needs PyPI)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    subprocess.run([*cmd, PACKAGE, "-d", str(dest)], check=True)
    found = sorted(dest.glob("names-*.tar.gz"))
    if not found:
        raise SystemExit(f"no names-*.tar.gz in {dest} after pip download")
    return found[0]


def read_lists(source: Path) -> tuple[dict[str, dict[str, str]], str]:
    """Read both lists from an sdist .tar.gz or a directory -> ({sex: {NAME: pct}}, origin)."""
    texts: dict[str, str] = {}
    if source.is_file():
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        if digest != SDIST_SHA256:
            print(f"warning: {source.name} sha256 {digest} differs from {SDIST_SHA256}")
        with tarfile.open(source, "r:gz") as tar:
            for member in tar.getmembers():
                for sex, fname in LISTS.items():
                    if member.name.endswith("/" + fname):
                        texts[sex] = tar.extractfile(member).read().decode("ascii")
        origin = f"{source.name} (sha256 {digest})"
    else:
        for sex, fname in LISTS.items():
            hits = sorted(source.rglob(fname))
            if hits:
                texts[sex] = hits[0].read_text(encoding="ascii")
        origin = "the files dist.male.first and dist.female.first"
    missing = [LISTS[s] for s in LISTS if s not in texts]
    if missing:
        raise SystemExit(f"{source}: could not find {missing}")
    return {sex: parse_list(text, LISTS[sex]) for sex, text in texts.items()}, origin


def parse_list(text: str, fname: str) -> dict[str, str]:
    """Lines 'NAME pct cumpct rank' -> {NAME: pct as written}; checks every line."""
    out: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 4 or not fields[0].isalpha():
            raise SystemExit(f"{fname}:{lineno}: unexpected line {line!r}")
        float(fields[1])  # must be a number
        if fields[0] in out:
            raise SystemExit(f"{fname}:{lineno}: duplicate name {fields[0]}")
        out[fields[0]] = fields[1]
    return out


def merge(lists: dict[str, dict[str, str]]) -> list[tuple[str, str, str, str]]:
    """One row (name, majority sex, male_pct, female_pct) per name, sorted by name."""
    rows = []
    for upper in sorted(set(lists["male"]) | set(lists["female"])):
        male, female = lists["male"].get(upper, "0"), lists["female"].get(upper, "0")
        sex = "male" if float(male) > float(female) else "female"  # tie -> female, see above
        rows.append((upper.lower(), sex, male, female))
    return rows


def write_tsv(rows: list[tuple[str, str, str, str]], out: Path, origin: str) -> None:
    """Write the corpus with a commented provenance header."""
    n_both = sum(1 for r in rows if float(r[2]) > 0 and float(r[3]) > 0)
    lines = [
        "# US first names from the 1990 US Census name-frequency lists (public domain).",
        f"# Built by scripts/build_names_corpus.py from {origin},",
        f"# the sdist of the PyPI package {PACKAGE} (dist.male.first, dist.female.first).",
        "# sex = the list where the name has the larger percentage (tie -> female);",
        f"# {len(rows)} names, {n_both} of them in both lists. pct = percent of that sex.",
        "\t".join(HEADER),
        *("\t".join(r) for r in rows),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, help="names sdist .tar.gz or a dir")
    parser.add_argument("--download", action="store_true", help="pip-download the sdist")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output TSV path")
    args = parser.parse_args(argv)
    if (args.source is None) == (not args.download):
        parser.error("give exactly one of SOURCE or --download")
    with tempfile.TemporaryDirectory() as tmp:
        source = download_sdist(Path(tmp)) if args.download else args.source
        lists, origin = read_lists(source)
    rows = merge(lists)
    write_tsv(rows, args.out, origin)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({len(rows)} names, {size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
