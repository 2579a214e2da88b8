"""Make the easy-read pictures (engine/export/pictures/*.png) from OpenMoji's SVG files.

A maintainer's step, not part of `make`: the PNGs it writes are committed. It needs the OpenMoji
package from the npm registry, unpacked, and cairosvg (in a throwaway environment):

    npm pack openmoji@17.0.0 && tar xzf openmoji-17.0.0.tgz        # -> package/
    python3 -m venv /tmp/svg && /tmp/svg/bin/pip install cairosvg pyyaml
    /tmp/svg/bin/python scripts/easy-read-pictures.py package/

Every picture named in engine/export/pictures/pictures.yaml is rasterised from
package/color/svg/<code points>.svg to a 160 x 160 PNG with transparency. OpenMoji is licensed
CC BY-SA 4.0; the PNGs are under the same licence (engine/export/pictures/CREDITS.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cairosvg
import yaml

HERE = Path(__file__).resolve().parent.parent / "engine" / "export" / "pictures"
SIZE = 160  # 20 mm on paper at 200 dpi; 80 CSS pixels on a screen at 2x


def main(package: Path) -> None:
    mapping = yaml.safe_load((HERE / "pictures.yaml").read_text(encoding="utf-8"))
    for name, picture in mapping["pictures"].items():
        svg = package / "color" / "svg" / f"{picture['openmoji']}.svg"
        cairosvg.svg2png(url=str(svg), write_to=str(HERE / f"{name}.png"), output_width=SIZE,
                         output_height=SIZE)
        print(f"{name}.png <- {svg.name} ({picture['annotation']})")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
