"""A run with images written by real mlflow: `log_image` by key and step, `log_figure`, a big
PNG, a JPEG and a file that only claims to be a PNG. The pictures are built to be told apart in
a half-block rendering (quadrants of solid colour whose layout changes with the step)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from action_helpers import mlflow_client

#: (key, step) pairs logged with log_image; timestamps are fixed so names are deterministic
#: but for MLflow's uuid.
LOGGED = (("confusion", 0), ("confusion", 1), ("confusion", 2), ("samples/pred", 0), ("samples/pred", 3))
T0 = 1_700_000_000_000


@dataclass(frozen=True)
class ImageRun:
    uri: str
    run_id: str
    other_run_id: str


def quadrants(step: int, size: tuple[int, int] = (64, 48)):
    """Four solid quadrants whose colours rotate with `step`."""
    from PIL import Image

    colours = [(220, 40, 40), (40, 200, 60), (40, 80, 230), (240, 220, 40)]
    colours = colours[step % 4:] + colours[: step % 4]
    width, height = size
    picture = Image.new("RGB", size)
    for index, colour in enumerate(colours):
        x, y = (index % 2) * width // 2, (index // 2) * height // 2
        picture.paste(colour, (x, y, x + width // 2, y + height // 2))
    return picture


def build_image_runs(uri: str, tmp_path: Path) -> ImageRun:
    """Two runs in a new experiment with local artifacts under `tmp_path`: both log the same
    keys (the second with other colours), the first also a figure and plain image files."""
    client = mlflow_client(uri)
    exp_id = client.create_experiment("images", artifact_location=str(tmp_path / "image-artifacts"))
    run_ids = []
    for offset, name in enumerate(("vision-a", "vision-b")):
        run_id = client.create_run(exp_id, run_name=name, start_time=T0 + offset).info.run_id
        for index, (key, step) in enumerate(LOGGED):
            client.log_image(run_id, quadrants(step + offset), key=key, step=step, timestamp=T0 + index,
                             synchronous=True)
        client.set_terminated(run_id, end_time=T0 + 10_000)
        run_ids.append(run_id)
    files = tmp_path / "image-files"
    files.mkdir()
    quadrants(1, (400, 300)).save(files / "photo.jpg", quality=90)
    (files / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really")
    client.log_artifact(run_ids[0], str(files / "photo.jpg"), "plots")
    client.log_artifact(run_ids[0], str(files / "fake.png"), "plots")
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot

        figure, axes = pyplot.subplots(figsize=(4, 3), dpi=50)
        axes.plot([0, 1, 2, 3], [3, 1, 2, 0], color="tab:red", linewidth=4)
        client.log_figure(run_ids[0], figure, "plots/figure.png")
        pyplot.close(figure)
    except ImportError:  # no matplotlib: a PNG written by Pillow stands in
        quadrants(2, (200, 150)).save(files / "figure.png")
        client.log_artifact(run_ids[0], str(files / "figure.png"), "plots")
    return ImageRun(uri, run_ids[0], run_ids[1])
