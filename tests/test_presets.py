from deepad.presets import load_presets
from deepad.training.config import validate_config


def test_every_preset_validates():
    presets = load_presets()
    assert any(p.group == "collapse" for p in presets.values())
    for p in presets.values():
        assert p.title and p.description
        validate_config(p.config)
