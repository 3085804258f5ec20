"""What ``hyperband.run`` and ``hyperband run`` use when the caller does not choose.

The machine (``Hyperband``) and the NNI advisor keep the seed's semantics: random
configurations, brackets in NNI's cycle. The drivers default to what the benchmarks showed wins
at equal budget (``benchmarks/bench_lcbench.py`` on real learning curves and
``benchmarks/bench_compare.py`` on six synthetic workloads; the numbers are on the samplers
page and in the CHANGELOG): ``DEFAULT_SAMPLER`` with ``DEFAULT_SAMPLER_OPTIONS``, and
``DEFAULT_BRACKETS``. ``simulate()`` keeps the machine's semantics, as it models the machine.

A journal keeps the choices it was written with: resuming it without naming a sampler or a
bracket order continues with the journal's, so a study started before a default changed
resumes unchanged. Naming one that differs from the journal's is refused, as for every other
study parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

from hyperband.core.sampling import is_sampler, space_or_sampler

__all__ = ["DEFAULT_BRACKETS", "DEFAULT_SAMPLER", "DEFAULT_SAMPLER_OPTIONS", "Choices"]

#: The sampler of a study that names none (and gives a search space, not a sampler object).
DEFAULT_SAMPLER: Final = "kde"
#: Its options.
DEFAULT_SAMPLER_OPTIONS: Final[Mapping[str, Any]] = MappingProxyType({"trust": "rank"})
#: The bracket order of a study that names none: adaptive brackets were no better (lowest of
#: our methods on 12 of 16 workloads at 25% of the budget against 11 for the cycle, 6 against 7
#: at 100%), and the cycle keeps every bracket's share fixed.
DEFAULT_BRACKETS: Final = "cycle"


@attrs.frozen
class Choices:
    """The caller's ``space``, ``sampler``, ``sampler_options`` and ``brackets``, as given
    (``None``: not chosen), resolved for a new study or for a journal's."""

    space: Any
    sampler: Any
    sampler_options: Mapping[str, Any] | None
    brackets: str | None

    def check(self) -> None:
        """Validate the choices as given, before any journal is read.

        Raises:
            HyperbandError: an unknown sampler name or option, a sampler given twice, or
                arguments of the wrong kind.
        """
        space_or_sampler(self.space, self.sampler, self.sampler_options)

    def resolve(self, study: Mapping[str, Any] | None) -> tuple[Callable[[], Any], str]:
        """What builds the study's space or sampler, and its bracket order.

        Args:
            study: the journal's header when resuming one, else ``None`` (a new study).
        """
        return self._sampler(study), self._brackets(study)

    def _sampler(self, study: Mapping[str, Any] | None) -> Callable[[], Any]:
        if self.sampler is not None or not _is_space(self.space):
            return space_or_sampler(self.space, self.sampler, self.sampler_options)
        if study is None:
            return space_or_sampler(self.space, DEFAULT_SAMPLER, DEFAULT_SAMPLER_OPTIONS)
        spec = study.get("sampler_spec")
        if isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
            # Built over the caller's space: a journal of another space is still refused.
            options = spec.get("options")
            return space_or_sampler(
                self.space, spec["name"], options if isinstance(options, Mapping) else None
            )
        # A journal without a named sampler (a custom one): the space as given; the journal's
        # header check says what differs.
        return space_or_sampler(self.space, None, None)

    def _brackets(self, study: Mapping[str, Any] | None) -> str:
        if self.brackets is not None:
            return self.brackets
        if study is None:
            return DEFAULT_BRACKETS
        params = study.get("params")
        given = params.get("brackets") if isinstance(params, Mapping) else None
        # Journals record the order only when it is not the cycle.
        return given if isinstance(given, str) else "cycle"


def _is_space(space: object) -> bool:
    """A search space (NNI's dict, or a ConfigSpace space), not a sampler object or None."""
    return space is not None and not is_sampler(space)
