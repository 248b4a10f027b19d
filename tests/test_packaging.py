"""A built wheel in a fresh virtual environment works, templates and sample included."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_installs_and_finds_its_data(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(REPO)], check=True, capture_output=True)
    wheel = next(dist.glob("crmkit-*.whl"))
    env_dir = tmp_path / "venv"
    # The fresh environment borrows the test environment's dependencies through a .pth file
    # (so no network is needed), but crmkit itself comes only from the wheel.
    venv.create(env_dir, with_pip=False)
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (site / "deps.pth").write_text("\n".join(deps) + "\n")
    py = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True)
    probe = (
        "import crmkit, crmkit.resources as r\n"
        "print(crmkit.__file__)\n"
        "print(r.default_templates_dir())\n"
        "print(r.sample_workspace_dir())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path, env=env)
    module, templates, sample = out.stdout.split()
    assert str(env_dir) in module, "crmkit must come from the wheel, not the checkout"
    assert str(env_dir) in templates and any(Path(templates).iterdir())
    assert str(env_dir) in sample and (Path(sample) / "crmkit.yaml").is_file()
    ws = tmp_path / "fromwheel"
    r = subprocess.run([str(py), "-m", "crmkit", "init", str(ws), "--sample"], capture_output=True, text=True,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(py), "-m", "crmkit", "-w", str(ws), "check"], capture_output=True, text=True,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
