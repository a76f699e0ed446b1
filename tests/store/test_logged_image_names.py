"""MLflow's log_image file names, both generations (docs/formats.md §6.1): the current `+`
separator with `~` for `/`, and the older `%` separator with `#`. Real mlflow's current names
are checked on every backend in test_artifacts_contract.py."""

from __future__ import annotations

from tracktui.store.artifacts.base import ArtifactEntry
from tracktui.store.artifacts.logged_images import LoggedImage, logged_images

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def entries(*names: str) -> list[ArtifactEntry]:
    return [ArtifactEntry(f"images/{name}", False, 10) for name in names]


def test_both_separators_keys_with_slashes_and_thumbnails():
    listing = entries(
        f"a~b+step+2+timestamp+20+{UUID}.png",
        f"a~b+step+2+timestamp+20+{UUID}+compressed.webp",
        f"a#b%step%1%timestamp%10%{UUID[::-1]}.png",
        f"loss+step+-1+timestamp+5+{UUID}.png",
        "tiny.png",
        f"loss+step+x+timestamp+5+{UUID}.png",
    ) + [ArtifactEntry("images/sub", True)]
    assert logged_images(listing) == {
        "a/b": [LoggedImage("a/b", 1, 10, f"images/a#b%step%1%timestamp%10%{UUID[::-1]}.png", None),
                LoggedImage("a/b", 2, 20, f"images/a~b+step+2+timestamp+20+{UUID}.png",
                            f"images/a~b+step+2+timestamp+20+{UUID}+compressed.webp")],
        "loss": [LoggedImage("loss", -1, 5, f"images/loss+step+-1+timestamp+5+{UUID}.png", None)],
    }


def test_a_thumbnail_without_its_image_is_not_an_image():
    assert logged_images(entries(f"k+step+0+timestamp+1+{UUID}+compressed.webp")) == {}
