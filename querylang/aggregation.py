"""Run a plan's post-steps: the engine's half of the step objects in ``steps.py``.

Per piece: the plan's piece steps (trim to the piece's window, snap to the native grid,
fill left-out zeros). Then, on all pieces merged: the plan's query steps in order
(combine, client-side filters, combine away filter-only dimensions, re-bucket, derive,
shape). What runs here is exactly what ``explain`` lists.

Frames are not copied where a view does: one piece, or one request's frame, is passed on
as it is; trimming takes rows only when some lie outside the window, and snapping makes a
new time column only when a time is off the grid; sorting keeps rows already in order.
The copies that remain are the ones a new layout needs: stacking several frames (time
and metrics; dimension codes are remapped, labels are not), the rows a filter or a trim
keeps, the per-group values of a combine or re-bucket, and the full grid of a fill.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from querylang.frames import Frame
from querylang.planning import Piece, Plan
from querylang.steps import SEEN, FillZeros, floor_times

if TYPE_CHECKING:
    from querylang.federation import CrossPlan

__all__ = ["finish", "finish_all", "finish_piece", "floor_times"]


def finish_piece(plan: Plan, piece: Piece, frames: Sequence[Frame]) -> Frame:
    """The decoded frames of one piece as one frame on the native grid, inside its window."""
    metrics = tuple(plan.fetch)
    if any(isinstance(step, FillZeros) for step in plan.piece_steps):
        frames = [_mark_seen(f) for f in frames]
        metrics += tuple(SEEN + m for m in plan.fetch)
    frame = Frame.concat(frames, plan.group_by, metrics)
    for step in plan.piece_steps:
        frame = step.apply(frame, piece.native.window)
    return frame


def _mark_seen(frame: Frame) -> Frame:
    """The frame with a ``SEEN`` column of ones per metric: rows a request answered.

    The ones are one read-only value broadcast over the rows, not an array per metric."""
    import numpy as np

    ones = np.broadcast_to(np.float64(1.0), (len(frame),))
    seen = {SEEN + m: ones for m in frame.metrics}
    return Frame(frame.time, frame.dims, {**frame.metrics, **seen})


def finish(plan: Plan, pieces: Sequence[Frame]) -> Frame:
    """All pieces' frames → the query's result frame."""
    frame = Frame.concat(pieces, plan.group_by, plan.fetch)
    for step in plan.post_steps:
        frame = step.apply(frame)
    return frame


def finish_all(plan: Plan | CrossPlan, answers: Sequence[Sequence[Sequence[Frame]]]) -> Frame:
    """Decoded frames ([leg][piece][request]) → the result frame of a plan or cross plan.

    A cross plan's legs are finished one by one (each provider's own steps, then its
    standard columns and provider and account tags), stacked, and then given the cross steps.
    """
    from querylang.federation import CrossPlan

    legs = plan.legs if isinstance(plan, CrossPlan) else (plan,)
    frames = []
    for leg, per_piece in zip(legs, answers, strict=True):
        pieces = [finish_piece(leg, p, fs) for p, fs in zip(leg.pieces, per_piece, strict=True)]
        if leg.store is not None:  # buckets answered by the result store, on the same grid
            pieces.extend(leg.store.frames)
        frames.append(finish(leg, pieces))
    if not isinstance(plan, CrossPlan):
        return frames[0]
    tagged = [step.apply(f) for step, f in zip(plan.leg_steps, frames, strict=True)]
    tags = ("provider", "account")
    dims = (*tags, *(d for d in plan.bound.by if d not in tags))
    frame = Frame.concat(tagged, dims, plan.bound.counters)
    for step in plan.post_steps:
        frame = step.apply(frame)
    return frame
