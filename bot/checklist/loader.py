"""Finding and loading playbooks: a built-in name (`default`) or a YAML file next to the config file.

Loads are cached by the file's path, size and modification time, so an edited playbook is picked up at
the next check without a restart, and an unchanged one is parsed once. Call from a thread: it reads files.
"""

from __future__ import annotations

import threading
from pathlib import Path

from bot.checklist.playbook import Playbook
from bot.configbase import shown
from bot.yamlfile import ConfigFileError, load_yaml_model

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "playbooks"

_cache: dict[tuple[Path, int, int], Playbook] = {}
_lock = threading.Lock()


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def is_file_reference(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref


def resolve(ref: str, base_dir: Path) -> Path:
    """The file a team's `playbook:` names: a built-in, or a path relative to the config file."""
    if is_file_reference(ref):
        return (base_dir / ref).resolve()
    if ref not in builtin_names():
        raise ConfigFileError(
            Path(ref),
            [
                f"no built-in playbook named {shown(ref)} (built-in: {', '.join(builtin_names())}); "
                "to use your own, name a .yaml file relative to the config file"
            ],
        )
    return BUILTIN_DIR / f"{ref}.yaml"


def load(ref: str, base_dir: Path) -> Playbook:
    """The playbook `ref` names; raises `ConfigFileError` naming file, line and problem."""
    path = resolve(ref, base_dir)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigFileError(path, [f"{path}: cannot read the playbook: {exc.strerror}"]) from exc
    key = (path, stat.st_size, stat.st_mtime_ns)
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    playbook = load_yaml_model(path, Playbook)
    with _lock:
        for old in [k for k in _cache if k[0] == path]:
            del _cache[old]
        _cache[key] = playbook
    return playbook
