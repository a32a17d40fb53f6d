"""The operator's controls of a router's paths: add one while serving (as a canary or
a shadow), the kill switch, and each path's mode. :class:`router.Router` has them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from router._canary import Canary
from router._config import check_rollout
from router._path import Path
from router._settings import PathLike, check_paths

if TYPE_CHECKING:
    from router._admission import Admission
    from router._run import Crew


class PathControls:
    """The path methods of :class:`router.Router` (a router is built with them)."""

    _admission: Admission
    _crew: Crew

    def add_path(
        self, path: PathLike, *, canary: bool | Canary = False, shadow: float | None = None
    ) -> Path:
        """Add a path while the router is serving; it starts from the prior.

        Args:
            path: the new path.
            canary: roll it out progressively (True for the default :class:`Canary`:
                1%, 5%, 25%, then all traffic), promoting it only while its posterior
                is not credibly worse than the best incumbent's, rolling it back as
                soon as it is (see :meth:`rollouts`).
            shadow: run it in the background on this share of requests (0 < shadow
                <= 1): its output is never served, its score is recorded and learned
                (outcome rows with a negative attempt number and ``{"shadow": True}``).

        Raises:
            ConfigError: the path is invalid or its name is taken.

        Example:
            >>> from router import Router
            >>> def a(x): return x
            >>> def b(x): return x
            >>> router = Router([a], lambda out: True, store="memory://")
            >>> router.add_path(b).name, [p.name for p in router.paths]
            ('b', ['a', 'b'])
        """
        new = check_paths([*self._admission.paths, path])[-1]
        self._crew.adopt([new], *check_rollout(canary, shadow))
        return new

    def rollouts(self) -> dict[str, str]:
        """Each canary's state: ``"canary at 5%"``, ``"promoted"`` or ``"rolled back"``.

        Example:
            >>> from router import Router
            >>> def a(x): return x
            >>> def b(x): return x
            >>> router = Router([a], lambda out: True, store="memory://")
            >>> _ = router.add_path(b, canary=True)
            >>> router.rollouts()
            {'b': 'canary at 1%'}
        """
        return self._admission.rollouts.states()

    def disable_path(self, name: str) -> None:
        """Kill switch: stop routing to ``name`` in every router on the store (within 1 s).

        Example:
            >>> from router import Router
            >>> def a(x): return "a"
            >>> def b(x): return "b"
            >>> router = Router([a, b], lambda out: True, store="memory://")
            >>> router.disable_path("a")
            >>> {router.run(i) for i in range(20)}
            {'b'}
        """
        self._admission.gate.set_mode(self._admission.known(name), "disabled")

    def enable_path(self, name: str) -> None:
        """Undo :meth:`disable_path` or :meth:`force_path`: the policy decides again."""
        self._admission.gate.set_mode(self._admission.known(name), "auto")

    def force_path(self, name: str) -> None:
        """Route every request to ``name`` first (in every router on the store), bypassing
        the policy; other paths remain fallbacks only if ``name`` is the sole candidate."""
        self._admission.gate.set_mode(self._admission.known(name), "forced")

    def path_modes(self) -> dict[str, str]:
        """Each path's mode in the store: ``auto``, ``disabled`` or ``forced``."""
        return self._admission.modes()
