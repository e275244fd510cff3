"""A tiny synthetic KITTI-layout dataset: coloured boxes rendered on a noisy grey background."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

#: class -> (RGB colour, (min, max) width px, (min, max) height px)
SHAPES = {
    "Car": ((200, 30, 30), (24, 40), (14, 22)),
    "Pedestrian": ((30, 60, 220), (8, 12), (20, 30)),
}


def write_synthetic_kitti(
    root: Path, n_images: int = 6, width: int = 160, height: int = 96, seed: int = 0
) -> Path:
    """Write ``root/image_2/NNNNNN.png`` and ``root/label_2/NNNNNN.txt`` (1-3 boxes each)."""
    rng = np.random.default_rng(seed)
    (root / "image_2").mkdir(parents=True, exist_ok=True)
    (root / "label_2").mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        img = rng.integers(90, 140, size=(height, width, 3)).astype(np.uint8)
        lines = []
        for _ in range(int(rng.integers(1, 4))):
            name = str(rng.choice(list(SHAPES)))
            colour, (w0, w1), (h0, h1) = SHAPES[name]
            w, h = int(rng.integers(w0, w1)), int(rng.integers(h0, h1))
            x1, y1 = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
            img[y1 : y1 + h, x1 : x1 + w] = colour
            lines.append(
                f"{name} 0.00 0 0.00 {x1:.2f} {y1:.2f} {x1 + w:.2f} {y1 + h:.2f} "
                "1.50 1.60 3.90 0.00 1.50 10.00 0.00"
            )
        lines.append("DontCare -1 -1 -10 0.00 0.00 5.00 5.00 -1 -1 -1 -1000 -1000 -1000 -10")
        Image.fromarray(img).save(root / "image_2" / f"{i:06d}.png")
        (root / "label_2" / f"{i:06d}.txt").write_text("\n".join(lines) + "\n")
    return root
