"""The bundled priors are found from a source checkout and from an installed wheel, by population name."""

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import model
from model.priors import bundled_populations, bundled_priors_folder, load_priors

ROOT = Path(__file__).resolve().parent.parent


def test_source_checkout_uses_the_top_level_priors_folder():
    if Path(model.__file__).resolve().parent == ROOT / "model":
        assert bundled_priors_folder() == ROOT / "priors" / "primary_care"
        assert bundled_priors_folder("specialist") == ROOT / "priors" / "specialist"
    assert (bundled_priors_folder() / "nodes.csv").is_file()
    assert {"primary_care", "specialist"} <= set(bundled_populations())


def test_installed_wheel_carries_and_finds_the_priors(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    for name in ("model/priors/primary_care/nodes.csv", "model/priors/specialist/nodes.csv",
                 "model/priors/renamed.csv", "model/data/vignettes.csv"):
        assert name in names
    code = ("import model, model.priors as p; print(p.bundled_priors_folder()); "
            "print(model.load_model().priors_digest); print(model.load_model('specialist').priors_digest); "
            "print(','.join(model.bundled_populations())); print(len(model.read_vignettes()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, check=True)
    folder, digest, specialist, populations, vignettes = out.stdout.split()
    assert Path(folder) == site / "model" / "priors" / "primary_care"
    assert digest == load_priors().digest
    assert specialist == load_priors("specialist").digest
    assert populations == ",".join(bundled_populations())
    # v2 has more than the ten public vignettes of v1: count the rows of the source file directly
    with open(ROOT / "model" / "data" / "vignettes.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert vignettes == str(len(rows)) and len(rows) >= 10
