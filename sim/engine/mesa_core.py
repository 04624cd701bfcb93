"""Mesa's core (``Model`` and ``Agent``) without the rest of Mesa's package.

The engine's models are Mesa models and its actors Mesa agents, and that is all of
Mesa it uses. But ``import mesa`` runs Mesa's package ``__init__``, which imports its
data collector and batch runner (pandas), its spaces (networkx, scipy.spatial) and its
experimental modules: about 0.4 to 0.9 s before anything is played, paid by every
``validate``, ``replay`` and ``step``. ``mesa.model`` and ``mesa.agent`` themselves
import only numpy.

So this module imports those two submodules under a stand-in for the ``mesa`` package
that runs the real package ``__init__``, in the same module object, the first time
anything else is asked of it (``mesa.DataCollector``, ``mesa.__version__``, ``from mesa
import space``): code that wants the rest of Mesa gets it, and its ``Model`` and
``Agent`` are the very classes the engine subclasses. If Mesa is already imported, it
is used as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

__all__ = ["Agent", "Model", "mesa"]


# Attributes that import machinery and introspection (inspect, doctest, pickle, copy)
# look for on any module: asking for them is no sign that anyone wants the rest of Mesa.
_PROBES = frozenset(
    {"__wrapped__", "__cached__", "__getattr__", "__dir__", "__builtins__", "__annotations__"}
)


class _MesaPackage(types.ModuleType):
    """The ``mesa`` package, its ``__init__`` run on the first attribute it lacks."""

    def __getattr__(self, name: str) -> Any:
        if name in _PROBES:
            raise AttributeError(name)
        # Become a plain module first, so a failing or recursive lookup cannot loop.
        self.__class__ = types.ModuleType
        spec = self.__spec__
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(self)
        return getattr(self, name)


def _import_core() -> types.ModuleType:
    """Import ``mesa.agent`` and ``mesa.model``; return the (lazy) ``mesa`` package."""
    loaded = sys.modules.get("mesa")
    if loaded is None:
        spec = importlib.util.find_spec("mesa")
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError("the 'mesa' package is not installed")
        package = _MesaPackage("mesa")
        package.__spec__ = spec
        package.__loader__ = spec.loader
        package.__file__ = spec.origin
        package.__path__ = list(spec.submodule_search_locations)
        package.__package__ = "mesa"
        sys.modules["mesa"] = package
        loaded = package
    for name in ("agent", "model"):
        module = importlib.import_module(f"mesa.{name}")
        # A package's submodule is its attribute; set it here, as the import system
        # does, so it does not wake the lazy __init__ when asked for.
        loaded.__dict__.setdefault(name, module)
    # And its two core names, so `from mesa import Model, Agent` stays cheap as well.
    loaded.__dict__.setdefault("Agent", sys.modules["mesa.agent"].Agent)
    loaded.__dict__.setdefault("Model", sys.modules["mesa.model"].Model)
    return loaded


mesa = _import_core()
Model = mesa.Model
Agent = mesa.Agent
