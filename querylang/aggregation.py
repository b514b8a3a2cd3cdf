"""Run a plan's post-steps: the engine's half of the step objects in ``steps.py``.

Per piece: the plan's piece steps (trim to the piece's window, snap to the native grid,
fill left-out zeros). Then, on all pieces merged: the plan's query steps in order
(combine, client-side filters, combine away filter-only dimensions, re-bucket, derive,
shape). What runs here is exactly what ``explain`` lists.
"""

from __future__ import annotations

from collections.abc import Sequence

from querylang.frames import Frame
from querylang.planning import Piece, Plan
from querylang.steps import floor_times

__all__ = ["finish", "finish_piece", "floor_times"]


def finish_piece(plan: Plan, piece: Piece, frames: Sequence[Frame]) -> Frame:
    """The decoded frames of one piece as one frame on the native grid, inside its window."""
    frame = Frame.concat(frames, plan.group_by, plan.fetch)
    for step in plan.piece_steps:
        frame = step.apply(frame, piece.native.window)
    return frame


def finish(plan: Plan, pieces: Sequence[Frame]) -> Frame:
    """All pieces' frames → the query's result frame."""
    frame = Frame.concat(pieces, plan.group_by, plan.fetch)
    for step in plan.post_steps:
        frame = step.apply(frame)
    return frame
