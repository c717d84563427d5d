from deepad.presets import load_presets
from deepad.training.config import validate_config


def test_every_preset_validates():
    presets = load_presets()
    assert any(p.group == "collapse" for p in presets.values())
    for p in presets.values():
        assert p.title and p.description
        validate_config(p.config)


def test_the_presets_command_marks_each_lesson_pair(capsys):
    import json

    from deepad import cli

    assert cli.main(["presets"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    pairs: dict[tuple, dict] = {}
    for row in rows:
        if "lesson" in row:
            roles = {"lesson": ("trigger", "fix"), "demo": ("without", "with")}[row["kind"]]
            assert row["role"] in roles and row["differs_in"] and row["pair"]
            pairs.setdefault((row["kind"], row["lesson"]), {})[row["role"]] = row
    assert sum(kind == "lesson" for kind, _ in pairs) >= 1 and any(k == "demo" for k, _ in pairs)
    for (kind, lesson), pair in pairs.items():
        first, second = {"lesson": ("trigger", "fix"), "demo": ("without", "with")}[kind]
        assert set(pair) == {first, second}, lesson
        assert pair[first]["pair"] == pair[second]["preset"] and pair[second]["pair"] == pair[first]["preset"]
        assert pair[first]["differs_in"] == pair[second]["differs_in"]


def test_a_lesson_without_its_pair_is_refused(tmp_path):
    import json

    import pytest

    from deepad.errors import DeepADError

    cfg = {"dataset": "mnist5k", "method": "deep-svdd", "params": {}}
    (tmp_path / "a.json").write_text(json.dumps({"title": "a", "config": cfg, "lesson": "x", "role": "trigger",
                                                 "differs_in": ["bias"]}))
    with pytest.raises(DeepADError, match="one trigger and one fix"):
        load_presets(tmp_path)
