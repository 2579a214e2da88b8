"""The easy-read pictures: which picture stands beside which kind of point, with its alternative
text, read from engine/export/pictures/pictures.yaml (a mapping kept in the repository so that
it can be reviewed; OpenMoji, CC BY-SA 4.0, credited in pictures/CREDITS.md)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

FOLDER = Path(__file__).resolve().parent / "pictures"
MAPPING = FOLDER / "pictures.yaml"
# Said on the last line of every easy-read summary (the licence asks for attribution).
CREDIT = ("The pictures are from OpenMoji (openmoji.org). "
          "They are shared under the CC BY-SA 4.0 licence.")


@dataclass(frozen=True)
class PointPicture:
    name: str  # the picture's name (its file is name.png)
    path: Path
    alt: str  # what the picture shows, for someone who cannot see it

    def data_uri(self) -> str:
        return _data_uri(self.path)


@cache
def points() -> dict[str, PointPicture]:
    """Every kind of point, with its picture and alternative text (checked: each picture is
    one of the named pictures, its file is there, and its alternative text is not empty)."""
    data = yaml.safe_load(MAPPING.read_text(encoding="utf-8"))
    pictures, out, problems = data["pictures"], {}, []
    for kind, entry in data["points"].items():
        name, alt = entry.get("picture"), str(entry.get("alt") or "").strip()
        path = FOLDER / f"{name}.png"
        if name not in pictures or not path.is_file():
            problems.append(f"{kind}: picture {name!r} is not one of the pictures in the folder")
        if not alt:
            problems.append(f"{kind}: no alternative text")
        out[kind] = PointPicture(str(name), path, alt)
    if problems:
        raise ValueError(f"{MAPPING}: " + "; ".join(problems))
    return out


def picture(kind: str) -> PointPicture:
    try:
        return points()[kind]
    except KeyError:
        raise KeyError(f"no picture for the easy-read point {kind!r} in {MAPPING}") from None


@cache
def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
