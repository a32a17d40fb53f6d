"""Segments: the evidence of one kind of request, kept beside its task's.

An outcome recorded with a ``segment`` (``"lang=de&tier=pro"``, made by the router from
the categorical values of a request's context) adds its score twice, in the same
transaction: to its task's posterior, as every outcome does, and to the posterior of
the *segment task* :func:`segment_task` names. A segment task is an ordinary task of
the store (its own rows, fading horizon, resets and count of scored attempts), so
every store keeps segments with the additive updates it already has. Its name starts
from a control character no task name may hold, so it never meets a user's task.

Example:
    >>> segment_task("support", "lang=de")
    'support\\x1flang=de'
    >>> is_segment_task(segment_task("support", "lang=de")), is_segment_task("support")
    (True, False)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import replace

from storage._checks import NAME_LENGTH
from storage._records import Outcome

SEPARATOR = "\x1f"  # the ASCII unit separator: task names hold no control characters


def segment_task(task: str, segment: str) -> str:
    """The store task that holds ``segment``'s evidence of ``task``; a name too long for
    the store is a digest of the two (the evidence is the same, the name unreadable).

    Example:
        >>> len(segment_task("t" * 200, "lang=de")) <= 200
        True
    """
    name = f"{task}{SEPARATOR}{segment}"
    if len(name) <= NAME_LENGTH:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{SEPARATOR}{digest}"


def is_segment_task(task: str) -> bool:
    """Is ``task`` a segment's evidence rather than a task of the user's?"""
    return SEPARATOR in task


def evidence_tasks(outcome: Outcome) -> Iterator[tuple[str, int | None]]:
    """The tasks whose posteriors ``outcome`` adds to, each with the tick it counts at.

    Example:
        >>> row = Outcome("r", 1, "t", "a", 1.0, created_at=0.0, tick=7,
        ...               segment="lang=de", segment_tick=2)
        >>> [(task.replace(SEPARATOR, "|"), tick) for task, tick in evidence_tasks(row)]
        [('t', 7), ('t|lang=de', 2)]
    """
    return evidence_of(outcome.task, outcome.tick, outcome.segment, outcome.segment_tick)


def evidence_of(
    task: str, tick: int | None, segment: str | None, segment_tick: int | None
) -> Iterator[tuple[str, int | None]]:
    """:func:`evidence_tasks` of an outcome given by its fields (as a store reads them).

    Example:
        >>> [t for t, _ in evidence_of("t", 7, None, None)]
        ['t']
    """
    yield task, tick
    if segment is not None:
        yield segment_task(task, segment), segment_tick


def evidence_for(outcomes: Iterable[Outcome], task: str) -> list[Outcome]:
    """The outcomes that add to ``task``'s posteriors, as outcomes of ``task``: its own,
    or, for a segment task, those of that segment (at their segment's tick). Wrappers
    add them to what the store holds until the store has them.

    Example:
        >>> row = Outcome("r", 1, "t", "a", 1.0, created_at=0.0, tick=7,
        ...               segment="lang=de", segment_tick=2)
        >>> [o.tick for o in evidence_for([row], "t")], evidence_for([row], "t2")
        ([7], [])
        >>> [o.tick for o in evidence_for([row], segment_task("t", "lang=de"))]
        [2]
    """
    if SEPARATOR not in task:
        return [o for o in outcomes if o.task == task]
    return [
        replace(o, task=task, tick=o.segment_tick, segment=None, segment_tick=None)
        for o in outcomes
        if o.segment is not None and segment_task(o.task, o.segment) == task
    ]
