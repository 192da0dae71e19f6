"""The layering contracts (pyproject's [tool.importlinter]) name every module, and hold.

import-linter checks the contracts (`lint-imports`, in scripts/test's lint step); these tests make sure
a new module cannot slip past them: each module of bot/, handlers/, storage/, localslack/, demometrics/
and common/ must be a source of at least one contract once the contracts' wildcards are expanded against
the module tree, and every render or rule module must be a source of the rule-and-render contract.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage", "localslack", "demometrics", "common")
# The last part of a module's name that makes it a rule or render module (bot/<capability>/<part>.py).
RULE_PARTS = {
    "rules",
    "verdict",
    "band",
    "projection",
    "thresholds",
    "trend",
    "ranking",
    "grouping",
    "timing",
    "outcome",
    "stage",
    "model",
}


def contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return list(config["contracts"])


def modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.append(".".join(parts))
    return found


def pattern(expression: str) -> re.Pattern[str]:
    """import-linter's wildcards: `*` is one whole module name, `**` one or more."""
    parts = []
    for part in expression.split("."):
        parts.append({"*": r"[^.]+", "**": r"[^.]+(?:\.[^.]+)*"}.get(part, re.escape(part)))
    return re.compile(r"\.".join(parts) + r"\Z")


def sources(contract: dict[str, Any]) -> list[re.Pattern[str]]:
    if contract["type"] == "layers":
        containers = contract.get("containers") or [""]
        names = [
            name.strip()
            for layer in contract["layers"]
            for name in re.split(r"[|:]", layer if isinstance(layer, str) else " ")
            if name.strip()
        ]
        expressions = [f"{c}.{n}" if c else n for c in containers for n in names]
        return [pattern(e) for e in expressions] + [pattern(f"{e}.**") for e in expressions]
    return [pattern(e) for e in contract["source_modules"]]


def covered_by(module: str, contract: dict[str, Any]) -> bool:
    return any(p.match(module) for p in sources(contract))


def test_the_wildcards_expand_like_import_linter_s() -> None:
    assert pattern("bot.*.render").match("bot.checklist.render")
    assert not pattern("bot.*.render").match("bot.checklist.render_modal")
    assert not pattern("bot.*.render").match("bot.render")
    assert pattern("bot.**").match("bot.metrics.sources.datadog")
    assert not pattern("bot.**").match("bot")
    assert not pattern("bot.**").match("botany.x")


def test_every_module_is_a_source_of_some_contract() -> None:
    all_contracts = contracts()
    assert len(modules()) > 100  # the tree was found
    uncovered = [m for m in modules() if not any(covered_by(m, c) for c in all_contracts)]
    assert not uncovered, f"no import-linter contract in pyproject.toml names these modules: {uncovered}"


def test_every_render_and_rule_module_is_checked_by_the_rule_and_render_contract() -> None:
    (rules,) = [c for c in contracts() if c.get("id") == "rules-render"]
    assert {"storage", "slack_sdk", "slack_bolt"} <= set(rules["forbidden_modules"])
    assert not rules.get("allow_indirect_imports")
    expected = [
        m
        for m in modules()
        if m.startswith("bot.")
        and ((last := m.rsplit(".", 1)[-1]).startswith("render") or last in RULE_PARTS)
    ]
    assert len(expected) > 20
    missing = [m for m in expected if not covered_by(m, rules)]
    assert not missing, f"name these render/rule modules in the 'rules-render' contract: {missing}"


def test_the_layering_contracts_the_issue_names_are_there() -> None:
    by_id = {c.get("id"): c for c in contracts()}
    forbidden = {cid: (c["source_modules"], set(c["forbidden_modules"])) for cid, c in by_id.items()}
    assert {"bot", "handlers", "localslack", "demometrics"} <= forbidden["storage-bottom"][1]
    assert {"bot", "handlers", "storage"} <= forbidden["local-standalone"][1]
    assert "storage" in forbidden["handlers-thin"][1]
    assert {"bot", "handlers", "storage"} <= forbidden["common-neutral"][1]


def test_the_code_keeps_every_contract() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_pre_commit_runs_the_same_checks_with_the_venv_s_tools() -> None:
    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "ruff-format", "mypy", "import-linter"} <= set(hooks)
    assert all(repo["repo"] == "local" for repo in config["repos"])  # nothing fetched at run time
    for hook in hooks.values():
        tool = hook["entry"].split()[0]
        assert tool.startswith(".venv/bin/") and (ROOT / tool).exists(), hook["id"]


def test_the_application_imports_the_clock_from_common_not_the_transition_alias() -> None:
    users = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path != ROOT / "bot" / "clock.py"
        and re.search(r"^\s*from bot\.clock import", path.read_text(), re.M)
    ]
    assert not users, f"import the clock from common.clock: {users}"
