"""Hook points: how a lower app lets higher apps plug in without importing them.

A lower app declares its points in its own `hooks.py` (`declare(...)`); a higher app fills them
in its `AppConfig.ready()` (`fill(point, function)`), naming the point by reference, so imports
and a symbol search show who plugs into what (DESIGN.md: no upward imports, no Django signals
for business flow). Two kinds:
- HANDLERS are called in fill order for their effect (`point.call(...)`);
- PROVIDERS each answer, and the declaring module combines the answers (`point.results(...)`, or
  `point.fillers()` when it reads a filler's options or stops at the first answer).
Fill order is the order of the filling apps in INSTALLED_APPS. Filling the same function twice
keeps it once, in its first place; filling anything but a declared point (or with other options
than the point declares) raises ImproperlyConfigured, which stops start-up.
CoreConfig.ready() imports every project app's `hooks` module (`discover`), so `python3 -m scoms
manage hooks` lists every point and who fills it. Core's own points are declared at the end of this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule

HANDLERS = "handlers"
PROVIDERS = "providers"
Kind = Literal["handlers", "providers"]


@dataclass(frozen=True, eq=False)
class Filler:
    """One function filling a point, with the options the point asks each filler for."""

    function: Callable[..., Any]
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dotted_name(self) -> str:
        function = self.function
        return f"{function.__module__}.{getattr(function, '__qualname__', repr(function))}"

    @property
    def app_label(self) -> str:
        """The app the function belongs to (the first part of its module outside an app)."""
        config = apps.get_containing_app_config(self.function.__module__)
        return config.label if config is not None else self.function.__module__.split(".")[0]


class HookPoint:
    """A declared point (made by `declare`, never directly)."""

    def __init__(self, *, app: str, name: str, kind: Kind, signature: str, doc: str,
                 options: Iterable[str] = ()) -> None:
        if kind not in (HANDLERS, PROVIDERS):
            raise ImproperlyConfigured(f"hook point {app}.{name}: kind must be {HANDLERS!r} or {PROVIDERS!r}")
        self.app, self.name, self.kind = app, name, kind
        self.signature, self.doc, self.options = signature, doc, tuple(options)
        self._fillers: list[Filler] = []

    @property
    def qualified_name(self) -> str:
        return f"{self.app}.{self.name}"

    def __repr__(self) -> str:
        return f"<HookPoint {self.qualified_name} ({self.kind})>"

    def fillers(self) -> tuple[Filler, ...]:
        return tuple(self._fillers)

    def call(self, *args: Any, **kwargs: Any) -> None:
        """Call every handler, in fill order."""
        if self.kind != HANDLERS:
            raise TypeError(f"{self.qualified_name} has providers: combine their results()")
        for filler in self._fillers:
            filler.function(*args, **kwargs)

    def results(self, *args: Any, **kwargs: Any) -> list[Any]:
        """Every provider's answer, in fill order."""
        if self.kind != PROVIDERS:
            raise TypeError(f"{self.qualified_name} has handlers: call() them")
        return [filler.function(*args, **kwargs) for filler in self._fillers]


_points: dict[str, HookPoint] = {}


def declare(*, app: str, name: str, kind: Kind, signature: str, doc: str, options: Iterable[str] = ()) -> HookPoint:
    """Declare a hook point of `app` (in that app's hooks.py).

    `signature` is what a filler is called with and returns; `doc` says when it is called and
    how answers combine, in one line; `options` are the keyword options every fill must give.
    """
    point = HookPoint(app=app, name=name, kind=kind, signature=signature, doc=doc, options=options)
    if point.qualified_name in _points:
        raise ImproperlyConfigured(f"hook point {point.qualified_name} is declared twice")
    _points[point.qualified_name] = point
    return point


def fill(point: HookPoint, function: Callable[..., Any], **options: Any) -> None:
    """Plug `function` into `point` (from the filling app's AppConfig.ready()).

    The same function again is kept once, in its first place, with the options given last.
    """
    if not isinstance(point, HookPoint) or _points.get(point.qualified_name) is not point:
        raise ImproperlyConfigured(f"{point!r} is not a declared hook point")
    if not callable(function):
        raise ImproperlyConfigured(f"{point.qualified_name} must be filled with a function, not {function!r}")
    if set(options) != set(point.options):
        raise ImproperlyConfigured(
            f"{point.qualified_name} takes the options {sorted(point.options)}, not {sorted(options)}"
        )
    filler = Filler(function=function, options=MappingProxyType(dict(options)))
    for index, existing in enumerate(point._fillers):
        if existing.function is function:
            point._fillers[index] = filler
            return
    point._fillers.append(filler)


def discover() -> None:
    """Import the `hooks` module of every installed app of this project — the apps at the top of
    BASE_DIR; libraries may have unrelated `hooks` modules."""
    for config in apps.get_app_configs():
        if Path(config.path).parent == Path(settings.BASE_DIR) and module_has_submodule(config.module, "hooks"):
            import_module(f"{config.name}.hooks")


def points() -> list[HookPoint]:
    """Every declared point, by qualified name."""
    return sorted(_points.values(), key=lambda point: point.qualified_name)


@contextmanager
def isolated(point: HookPoint, *functions: Callable[..., Any]) -> Iterator[HookPoint]:
    """For tests: `point` filled by just `functions` (none: by nothing) inside the block; its
    fillers are restored after it."""
    saved = list(point._fillers)
    point._fillers.clear()
    try:
        for function in functions:
            fill(point, function)
        yield point
    finally:
        point._fillers[:] = saved


# --- core's own points --------------------------------------------------------------------------
DASHBOARD_TILES = declare(
    app="core", name="dashboard_tiles", kind=PROVIDERS, options=("section",),
    signature="(user) -> list[{'label', 'value', 'url'}]",
    doc="Tiles on the dashboard; asked only when the user may open the filler's portal `section`.",
)
DEMO_SEEDERS = declare(
    app="core", name="demo_seeders", kind=HANDLERS,
    signature="(*, stdout) -> None",
    doc="Demo data for seed_demo, after the demo users and exchange rates; must be safe to run again.",
)
