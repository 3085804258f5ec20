"""The advisor's ``classArgs``: checked when NNI starts it, before any search space arrives.

Every argument is validated on a probe machine (over a one-parameter space), so a bad value is
reported to NNI at once; the real machine is built when NNI sends the search space.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from hyperband.core.errors import ConfigurationError, HyperbandError, describe
from hyperband.core.machine import Hyperband
from hyperband.core.sampling import SAMPLERS, make_sampler
from hyperband.core.space import validate_space
from hyperband.core.stopping import STOPPING_RULES, StoppingRule, make_rule
from hyperband.integrations.nni.messages import _RESERVED

# One logger for the whole advisor, whichever of its modules logs.
_logger = logging.getLogger("hyperband.integrations.nni")

OPTIMIZE_MODES: Final = ("maximize", "minimize")

# The sampler's classArgs are checked on this space before NNI sends the real one.
_PROBE_SPACE: Final = {"x": {"_type": "uniform", "_value": [0, 1]}}


class _ClassArgs:
    """The validated ``classArgs``: the sampler's and the machine's arguments.

    Args:
        machine: the machine's keyword arguments but ``early_stop``; ``seed`` may be ``None``
            (one is drawn here, so a resumed study keeps it).
        resume_info: whether jobs carry the resume keys.
        sampler: the sampler's name in ``SAMPLERS``.
        sampler_options: the sampler's keyword arguments, or ``None``.
        early_stop: the stopping rule's name, or ``None``.
        early_stop_options: the rule's keyword arguments, or ``None``.

    Raises:
        ConfigurationError: an argument is out of range (``HyperbandError`` subclasses name the
            argument, the rule and the value).
    """

    __slots__ = ("machine", "resume_info", "sampler", "sampler_options")

    def __init__(
        self,
        machine: Mapping[str, Any],
        *,
        resume_info: object,
        sampler: str,
        sampler_options: object,
        early_stop: object,
        early_stop_options: object,
    ) -> None:
        mode = machine["mode"]
        if mode not in OPTIMIZE_MODES:
            raise ConfigurationError(
                f"optimize_mode must be one of {', '.join(map(repr, OPTIMIZE_MODES))}, "
                f"got {describe(mode)}"
            )
        if not isinstance(resume_info, bool):
            raise ConfigurationError(f"resume_info must be a bool, got {describe(resume_info)}")
        self.resume_info = resume_info
        self.sampler = sampler
        self.sampler_options = _options("sampler_options", sampler_options)
        # Checks the name and the options; the real sampler waits for the search space.
        probe_sampler = _sampler_for(sampler, _PROBE_SPACE, self.sampler_options)
        rule = _rule_for(early_stop, _options("early_stop_options", early_stop_options))
        self.machine: dict[str, Any] = {**machine, "early_stop": rule}
        # Validates every argument (and draws the seed when None) without a search space.
        probe = _new_machine(probe_sampler, self.machine)
        self.machine["seed"] = probe.seed

    def log(self) -> None:
        """Log the arguments the study runs with (the seed drawn, if it was not given)."""
        m = self.machine
        options = self.sampler_options
        _logger.info(
            "HyperbandAdvisor: R=%r eta=%r min_budget=%r optimize_mode=%s exec_mode=%s "
            "sizing=%s iterations=%r seed=%d sampler=%s%s early_stop=%r brackets=%s",
            m["max_budget"],
            m["eta"],
            m["min_budget"],
            m["mode"],
            m["exec_mode"],
            m["sizing"],
            m["iterations"],
            m["seed"],
            self.sampler,
            f" {options}" if options else "",
            m["early_stop"],
            m.get("brackets", "cycle"),
        )

    def build(self, space: Any) -> tuple[dict[str, Any], Hyperband]:
        """The validated search space and the machine over it.

        Raises:
            HyperbandError: the space is malformed or uses a reserved parameter name.
        """
        if not isinstance(space, dict):
            raise ConfigurationError(
                f"the search space must be a dict in NNI's format, got {describe(space)}"
            )
        clash = sorted(_RESERVED.intersection(space))
        if clash:
            raise ConfigurationError(
                f"the search space must not use the reserved parameter names "
                f"{', '.join(sorted(_RESERVED))}; it has {', '.join(clash)}"
            )
        validated = validate_space(space)
        sampler = _sampler_for(self.sampler, space, self.sampler_options)
        return validated, _new_machine(sampler, self.machine)


def _same_space(space: Any, known: dict[str, Any] | None) -> bool:
    """Whether ``space`` is the validated space ``known``, in normal form."""
    try:  # NNI's JSON and the checkpoint's may spell the same space differently
        return validate_space(space) == known
    except HyperbandError:
        return False


def _new_machine(space_or_sampler: Any, args: Mapping[str, Any]) -> Hyperband:
    return Hyperband(space_or_sampler, **args)


def _options(name: str, options: object) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
        raise ConfigurationError(
            f"{name} must be a dict of keyword arguments (or null), got {describe(options)}"
        )
    return dict(options)


def _sampler_for(name: object, space: Any, options: Mapping[str, Any]) -> Any:
    """The named sampler over ``space``; a bad name or option is a ``ConfigurationError``."""
    if not isinstance(name, str) or name not in SAMPLERS:
        raise ConfigurationError(
            f"sampler must be one of {', '.join(map(repr, SAMPLERS))}, got {describe(name)}"
        )
    try:
        return make_sampler(name, space, **options)
    except TypeError as exc:  # an unknown keyword argument
        raise ConfigurationError(
            f"sampler_options must be keyword arguments of the {name!r} sampler: {exc}"
        ) from None


def _rule_for(name: object, options: Mapping[str, Any]) -> StoppingRule | None:
    known = ", ".join(map(repr, STOPPING_RULES))
    if name is None:
        if options:
            raise ConfigurationError(
                f"early_stop_options need an early_stop rule ({known}), got early_stop=None "
                f"with options {sorted(options)}"
            )
        return None
    if not isinstance(name, str) or name not in STOPPING_RULES:
        raise ConfigurationError(
            f"early_stop must be null (no early stopping) or one of {known}, got {describe(name)}"
        )
    try:
        return make_rule({"name": name, "options": options})
    except TypeError as exc:  # an unknown keyword argument
        raise ConfigurationError(
            f"early_stop_options must be keyword arguments of the {name!r} rule: {exc}"
        ) from None
