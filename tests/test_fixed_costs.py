"""The fixed costs a user waits on: which libraries each command's path imports.

validate, replay and step play the engine and nothing else; Mesa's package __init__
(pandas, scipy, networkx) and the charting and Arrow libraries stay off their path.
"""

import subprocess
import sys

HEAVY = ("pandas", "scipy", "networkx", "matplotlib", "pyarrow", "SALib")


def imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(sorted(set({HEAVY!r}) & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])


def test_playing_a_game_imports_no_heavy_library():
    code = (
        "import numpy as np\n"
        "from sim.engine.loading import load\n"
        "from sim.engine.model import play\n"
        "play(load('scenarios/alaska.yaml'), 0, np.arange(3), keep_trajectories=True)"
    )
    assert imported_after(code) == []


def test_the_model_is_a_mesa_model_and_the_rest_of_mesa_loads_on_demand():
    code = (
        "import numpy as np\n"
        "from sim.engine.loading import load\n"
        "from sim.engine.model import WargameModel\n"
        "import sys\n"
        "assert 'pandas' not in sys.modules\n"
        "import mesa\n"
        "model = WargameModel(load('tests/scenarios/tiny.yaml'), seed=1, runs=np.arange(2))\n"
        "assert isinstance(model, mesa.Model)\n"
        "assert all(isinstance(actor, mesa.Agent) for actor in model.agents)\n"
        "assert mesa.model.Model is mesa.Model\n"
        # Asking for the rest of Mesa runs its package __init__ in place.
        "assert mesa.DataCollector.__module__ == 'mesa.datacollection'\n"
        "assert mesa.__version__.startswith('3.')\n"
        "from mesa import batch_run, space\n"
        "assert mesa.Model is sys.modules['mesa.model'].Model"
    )
    assert "pandas" in imported_after(code)


def test_mesa_imported_first_is_used_as_it_is():
    code = (
        "import mesa\n"
        "from sim.engine.model import WargameModel\n"
        "assert WargameModel.__mro__[1] is mesa.Model\n"
        "assert type(mesa).__name__ == 'module'"
    )
    assert "pandas" in imported_after(code)
