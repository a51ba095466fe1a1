import importlib
import pkgutil
import subprocess
import sys

import servin_core


def test_the_package_exports_what_it_lists() -> None:
    for name in servin_core.__all__:
        assert getattr(servin_core, name) is not None


def test_every_public_module_declares_its_surface() -> None:
    missing = []
    for info in pkgutil.walk_packages(servin_core.__path__, "servin_core."):
        if info.name.rsplit(".", 1)[-1].startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(info.name)
        if not hasattr(module, "__all__"):
            missing.append(info.name)
            continue
        missing += [
            f"{info.name}.{name}"
            for name in module.__all__
            if not hasattr(module, name)
        ]
    assert missing == []


def test_importing_errors_does_not_load_the_core() -> None:
    code = "import sys, servin_core.errors; print('servin_core.core' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
