"""Playbooks as data: the shipped one quotes its seeds, a broken one stops start-up naming file, line and
problem, and `scalebot config check` says the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot import seeds
from bot.checklist import loader
from bot.checklist.playbook import Playbook
from bot.cli import main
from bot.config import load_and_check
from bot.yamlfile import ConfigFileError, parse_yaml_model

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def default_playbook() -> Playbook:
    return loader.load("default", Path.cwd())


def test_the_default_playbook_has_the_four_parts_and_every_question_cites_its_seed() -> None:
    playbook = default_playbook()
    assert [p.title for p in playbook.parts] == [
        "Surge signals",
        "Business alignment",
        "Growth stage",
        "Scalability audit",
    ]
    assert len(playbook.with_role("surge_signal")) == 6 and len(playbook.with_role("giant")) == 1
    for question in playbook.questions():
        assert question.seed_title and question.quote, question.id
    for advice in playbook.stages.values():
        assert advice.step_ahead and advice.not_yet
    assert set(playbook.stages) == {"1K", "10K", "100K", "1M"}


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed articles are not next to the repository")
def test_every_quote_in_the_default_playbook_is_word_for_word_in_the_seed_it_cites() -> None:
    playbook = default_playbook()
    for question in playbook.questions():
        for title in question.seeds:
            assert (SEEDS / seeds.by_title(title).file).is_file(), title
        source = SEEDS / seeds.by_title(str(question.seed_title)).file
        assert question.quote in source.read_text(encoding="utf-8"), question.id
    cited = {
        seeds.by_title(c.title).file
        for advice in playbook.stages.values()
        for c in advice.step_ahead + advice.not_yet
    }
    assert cited == {"002_09b84662299bf056.txt", "003_3c33792896697e9b.txt", "004_26b48070c33732f0.txt"}


def playbook_text(**question_overrides: object) -> str:
    """The default playbook's YAML with one surge question changed."""
    data = yaml.safe_load((loader.BUILTIN_DIR / "default.yaml").read_text(encoding="utf-8"))
    data["parts"][0]["questions"][0].update(question_overrides)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"kind": "multiple"}, "parts[0].questions[0].kind"),
        ({"role": None}, "5 questions have role surge_signal; the verdict needs exactly 6"),
        ({"kind": "number"}, "role surge_signal needs kind: yes_no"),
        ({"required": False}, "must be required"),
        ({"id": "product_led"}, "question ids must be unique; repeated: product_led"),
        ({"id": "Has Spaces"}, "is not an id"),
        ({"text": "x" * 301}, "at most 300 characters"),
        ({"choices": [{"id": "a", "label": "A"}]}, "choices only apply to kind: choice"),
        ({"colour": "red"}, "parts[0].questions[0].colour: Extra inputs are not permitted"),
    ],
)
def test_a_playbook_that_does_not_validate_names_the_line_and_problem(
    tmp_path: Path, overrides: dict[str, object], problem: str
) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(playbook_text(**overrides), encoding="utf-8")
    with pytest.raises(ConfigFileError) as refused:
        loader.load(str(path), tmp_path)
    message = str(refused.value)
    assert problem in message
    assert re.search(rf"{re.escape(str(path))}:\d+: ", message), message


def test_a_playbook_problem_points_at_the_line_that_has_it(tmp_path: Path) -> None:
    text = (loader.BUILTIN_DIR / "default.yaml").read_text(encoding="utf-8")
    bad = text.replace("kind: choice", "kind: dropdown", 1)
    line = bad.splitlines().index("        kind: dropdown") + 1
    with pytest.raises(ConfigFileError, match=rf"team.yaml:{line}: parts\[1\].questions\[0\].kind"):
        parse_yaml_model(bad, Path("team.yaml"), Playbook)


def config_with(tmp_path: Path, playbook: str) -> Path:
    path = tmp_path / "scalebot.yaml"
    path.write_text(f"teams:\n  - name: Payments\n    channel: C0PAYMENTS\n    playbook: {playbook}\n")
    return path


def test_a_team_pointing_at_a_broken_playbook_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "payments.yaml").write_text(playbook_text(kind="multiple"), encoding="utf-8")
    with pytest.raises(ConfigFileError) as refused:
        load_and_check(config_with(tmp_path, "payments.yaml"))
    problem = refused.value.problems[0]
    assert problem.startswith(f"{tmp_path / 'payments.yaml'}:")
    assert "parts[0].questions[0].kind" in problem
    assert f"teams[0].playbook in {tmp_path / 'scalebot.yaml'}:4" in problem


def test_an_unknown_built_in_or_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="no built-in playbook named 'defualt' \\(built-in: default\\)"):
        load_and_check(config_with(tmp_path, "defualt"))
    with pytest.raises(ConfigFileError, match=r"missing\.yaml: cannot read the playbook"):
        load_and_check(config_with(tmp_path, "missing.yaml"))


def test_a_good_team_playbook_loads(tmp_path: Path) -> None:
    (tmp_path / "payments.yaml").write_text(playbook_text(text="Are we B2C?"), encoding="utf-8")
    config = load_and_check(config_with(tmp_path, "payments.yaml"))
    assert loader.load("payments.yaml", config.base_dir).parts[0].questions[0].text == "Are we B2C?"


def test_config_check_names_the_playbook_file_line_and_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "payments.yaml").write_text(playbook_text(required=False), encoding="utf-8")
    monkeypatch.setenv("SCALEBOT_CONFIG", str(config_with(tmp_path, "payments.yaml")))
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert re.search(rf"{re.escape(str(tmp_path / 'payments.yaml'))}:\d+: parts\[0\]\.questions\[0\]", err), (
        err
    )
    assert "must be required" in err


def test_an_older_playbook_citing_a_seed_file_reads_as_the_article_title(tmp_path: Path) -> None:
    data = yaml.safe_load(playbook_text())
    data["parts"][0]["questions"][0].pop("seed_title")
    data["parts"][0]["questions"][0]["seed"] = "004_26b48070c33732f0.txt"
    data["parts"][0]["questions"][0]["see_also"] = ["003_3c33792896697e9b.txt"]
    data["parts"][0]["intro"] = "Stay one step ahead. (004_26b48070c33732f0.txt)"
    data["stages"]["1K"]["step_ahead"][0] = {
        "text": "Add structured logging",
        "seed": "003_3c33792896697e9b.txt",
    }
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    playbook = loader.load(str(path), tmp_path)
    question = playbook.parts[0].questions[0]
    assert question.source == "Your System Does Not Need to Scale to a Million Users on Day One"
    assert question.seeds == [
        "Your System Does Not Need to Scale to a Million Users on Day One",
        "Scaling from 100 to 100,000 Users: What Changes",
    ]
    assert playbook.parts[0].intro == (
        "Stay one step ahead. (“Your System Does Not Need to Scale to a Million Users on Day One” by Eric Hanson)"
    )
    assert playbook.stages["1K"].step_ahead[0].title == "Scaling from 100 to 100,000 Users: What Changes"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"seed_title": None, "seed": "005_0123456789abcdef.txt"}, "is not one of the seed files"),
        (
            {"seed_title": "Scaling for dummies"},
            "is not the title of one of the seed articles; seed_title is one of",
        ),
        (
            {"seed": "000_aa66b6538f11a31c.txt"},
            "give seed_title (the article's title) or seed (its file name)",
        ),
    ],
)
def test_a_citation_of_an_unknown_article_is_a_config_error(
    tmp_path: Path, overrides: dict[str, object], problem: str
) -> None:
    data = yaml.safe_load(playbook_text())
    question = data["parts"][0]["questions"][0]
    question.update(overrides)
    if question.get("seed_title") is None:
        question.pop("seed_title")
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigFileError) as refused:
        loader.load(str(path), tmp_path)
    assert problem in str(refused.value)
    assert re.search(rf"{re.escape(str(path))}:\d+: parts\[0\]\.questions\[0\]", str(refused.value))


def test_a_seed_title_is_matched_forgiving_case_and_quotes(tmp_path: Path) -> None:
    data = yaml.safe_load(playbook_text(seed_title="“so, are we READY for 1,000,000 users?”"))
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert (
        loader.load(str(path), tmp_path).parts[0].questions[0].source
        == "So, are we ready for 1,000,000 users?"
    )
