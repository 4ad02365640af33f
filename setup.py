"""Maps the repository's top-level folders into one import package, `tokenplace`.

The metadata is in pyproject.toml; only the layout is computed here, so that a new
subpackage (any folder with an __init__.py) ships without being listed by hand.
`protos/tokenplace` is the package itself (with the generated `tokenplace.v1`);
each part folder becomes `tokenplace.<part>`.
"""

from setuptools import find_packages, setup

PARTS = ("cli", "client", "common", "e2ee", "gateway", "node", "relay")
ROOT = "protos/tokenplace"


def package_dirs() -> dict[str, str]:
    return {"tokenplace": ROOT, **{f"tokenplace.{part}": part for part in PARTS}}


def packages() -> list[str]:
    names = ["tokenplace", *(f"tokenplace.{sub}" for sub in find_packages(ROOT))]
    for part in PARTS:
        names += [
            f"tokenplace.{part}",
            *(f"tokenplace.{part}.{sub}" for sub in find_packages(part)),
        ]
    return names


setup(package_dir=package_dirs(), packages=packages())
