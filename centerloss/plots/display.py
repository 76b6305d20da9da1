"""Showing figures where they are read: an animation player, widgets with a fallback, GIFs."""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

from matplotlib.animation import PillowWriter

from centerloss.files import atomic_output, with_suffix


def animation_html(animation) -> str:
    """The animation as matplotlib's JavaScript player that also reads without JavaScript.

    ``animation.to_jshtml()`` leaves the player's image empty until its script
    runs, so where scripts do not run (GitHub, a notebook opened in JupyterLab
    before it is run or trusted) it shows a broken image. Here the last frame
    (the trained state) is the image's initial picture, and the scrubber
    starts at the end to match; with JavaScript the player takes over as
    usual. Show it with ``IPython.display.HTML(...)``.

    Returns:
      The HTML, one frame larger than ``to_jshtml()``'s.
    """
    html = animation.to_jshtml()
    frames = re.findall(r'frames\[\d+\] = "(data:image/\w+;base64,[^"]*)"', html)
    player = re.search(r'<img id="_anim_img\w*"', html)
    if not frames or player is None:
        raise RuntimeError("matplotlib's to_jshtml() player has an unknown layout.")
    poster = frames[-1].replace("\\\n", "")  # the JS string continues lines with "\"
    html = f'{html[: player.end()]} src="{poster}" alt="last frame"{html[player.end() :]}'
    # The scrubber at the last frame too, where the poster is (the script moves both).
    last = len(frames) - 1
    return re.sub(
        r'(<input id="_anim_slider\w*"[^>]*?)max="1" step="1" value="0"',
        rf'\g<1>max="{last}" step="1" value="{last}"',
        html,
        count=1,
    )


def widget_with_text(widget, text: str, png: bytes | None = None) -> dict:
    """A display bundle of an ipywidgets ``widget`` whose plain-text fallback is ``text``.

    Where widgets cannot render (GitHub, a notebook not yet run) the notebook
    shows the text instead of the widget's repr. With ``png`` (PNG bytes),
    the fallback is the text above that picture (as HTML, which GitHub and an
    untrusted notebook in JupyterLab show). Show the bundle with
    ``IPython.display.display(bundle, raw=True)``, or return it from a
    ``_repr_mimebundle_``.
    """
    bundle = {**widget._repr_mimebundle_(), "text/plain": text}
    if png is not None:
        picture = base64.b64encode(png).decode("ascii")
        bundle["text/html"] = (
            f"<p>{html.escape(text)}</p>"
            f'<img src="data:image/png;base64,{picture}" alt="{html.escape(text)}">'
        )
    return bundle


def save_gif(animation, path: str | os.PathLike, fps: int = 4, dpi: int = 72) -> Path:
    """Write an animation as a GIF, atomically.

    Args:
      animation: e.g. from :func:`centerloss.plots.animate_features`.
      path: file name; ".gif" is appended when it has another suffix.
      fps: frames per second.
      dpi: pixels per inch of the frames.

    Returns:
      The path written. A crash mid-write leaves any earlier file intact.
    """
    path = with_suffix(path, ".gif")
    with atomic_output(path) as temporary:
        animation.save(temporary, writer=PillowWriter(fps=fps), dpi=dpi)
    return path
