"""Make the illustrative media files of this framework (run from this folder: python make_media.py).

faces/face_1.png ... face_5.png  the pictorial version of the agree5 scale (very sad ... very happy face)
items/hl1_books.png              picture prompt for hl1 (an open book)
audio/wb4_<lang>.wav             PLACEHOLDER audio for wb4 in each form language: half a second of silence.
                                 Replace each with a recording of the wording read by a community reader.
Deterministic: the same bytes every run (PNG metadata off).
"""
import wave
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
LANGUAGES = ["en", "ur", "bn", "pa", "pl", "ar", "ro"]


def face(code: int, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(1, 1), dpi=96)
    ax.set_xlim(-1.1, 1.1), ax.set_ylim(-1.1, 1.1), ax.set_aspect("equal"), ax.axis("off")
    ax.add_patch(plt.Circle((0, 0), 1, color="#ffd54f", ec="#333", lw=2))
    for x in (-0.35, 0.35):
        ax.add_patch(plt.Circle((x, 0.3), 0.1, color="#333"))
    curve = (code - 3) / 2 * 0.35            # -0.35 (frown) ... +0.35 (smile)
    xs = np.linspace(-0.5, 0.5, 50)
    ax.plot(xs, -0.35 - curve * (1 - (xs / 0.5) ** 2) + curve, color="#333", lw=3)
    fig.savefig(path, transparent=True, metadata={"Software": None})
    plt.close(fig)


def book(path: Path) -> None:
    fig, ax = plt.subplots(figsize=(1.5, 1), dpi=96)
    ax.set_xlim(0, 3), ax.set_ylim(0, 2), ax.axis("off")
    ax.add_patch(plt.Polygon([(0.2, 0.3), (1.5, 0.5), (1.5, 1.8), (0.2, 1.6)], color="#90caf9", ec="#333", lw=2))
    ax.add_patch(plt.Polygon([(2.8, 0.3), (1.5, 0.5), (1.5, 1.8), (2.8, 1.6)], color="#a5d6a7", ec="#333", lw=2))
    fig.savefig(path, transparent=True, metadata={"Software": None})
    plt.close(fig)


def silence(path: Path, seconds: float = 0.5, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(1), w.setframerate(rate)
        w.writeframes(bytes([128]) * int(seconds * rate))


if __name__ == "__main__":
    for sub in ("faces", "items", "audio"):
        (HERE / sub).mkdir(exist_ok=True)
    for code in range(1, 6):
        face(code, HERE / "faces" / f"face_{code}.png")
    book(HERE / "items" / "hl1_books.png")
    for lang in LANGUAGES:
        silence(HERE / "audio" / f"wb4_{lang}.wav")
