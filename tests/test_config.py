import re
from pathlib import Path

import pytest

from slotfill.config import config_from_dict, load_config
from slotfill.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["demo.yaml", "atis.yaml", "snips.yaml", "smarthome.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    config = load_config(ROOT / "configs" / name)
    assert config.model.decoder == "crf"


def test_overrides_are_typed_and_dotted() -> None:
    config = load_config(
        ROOT / "configs/demo.yaml", ["training.epochs=3", "data.dir=../elsewhere", "model.chars.enabled=false"]
    )
    assert (
        config.training.epochs == 3 and str(config.data.dir) == "../elsewhere" and config.model.chars.enabled is False
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        ("model:\n  hiden_size: 3\n", [], r"c.yaml: model.hiden_size: unknown key"),
        ("training:\n  epochs: many\n", [], r"c.yaml: training.epochs: Input should be a valid integer"),
        ("model:\n  dropout: -0.1\n", [], r"c.yaml: model.dropout: Input should be greater than or equal to 0"),
        ("model:\n  encoder: {hidden_size: 0}\n", [], r"model.encoder.hidden_size: Input should be greater than 0"),
        ("model:\n  decoder: hmm\n", [], r"model.decoder: Input should be 'crf' or 'softmax'"),
        ("model:\n  chars: {kernel_size: 4}\n", [], r"model.chars.kernel_size: Value error, must be odd"),
        ("", ["training.epoch=3"], r"training.epoch: unknown key"),
        ("", ["training.epochs"], r"--set 'training.epochs': expected KEY=VALUE"),
        ("seed: 1\n", ["seed.x=1"], r"seed is not a section"),
        ("model: [\n", [], r"c.yaml:\d+: not valid YAML"),
        ("- a\n", [], r"expected a mapping"),
    ],
)
def test_bad_configs_name_the_key(tmp_path: Path, text: str, overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), overrides)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "none.yaml")


def test_relative_paths_are_read_from_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "project" / "lists").mkdir(parents=True)
    config = tmp_path / "project" / "c.yaml"
    config.write_text("data: {dir: ../data}\ngazetteers:\n  city: {file: lists/cities.txt}\n")
    monkeypatch.chdir(tmp_path / "project" / "lists")  # anywhere
    loaded = load_config(config)
    assert loaded.data.dir == (tmp_path / "data").resolve()
    assert loaded.gazetteers["city"].file == (tmp_path / "project" / "lists" / "cities.txt").resolve()
    overridden = load_config(config, ["data.dir=here"])  # --set stays relative to the current directory
    assert overridden.data.dir == Path("here")


def test_a_mistyped_set_key_is_blamed_on_set_with_the_nearest_key(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("training: {epochs: 3}\n")
    with pytest.raises(ConfigError, match=r"^--set: training.epochz: unknown key \(did you mean training.epochs\?\)$"):
        load_config(config, ["training.epochz=1"])
    with pytest.raises(ConfigError, match=r"^--set: training.epochs: Input should be a valid integer"):
        load_config(config, ["training.epochs=three"])
    config.write_text("training: {epochz: 3}\n")
    with pytest.raises(ConfigError, match=rf"^{config}: training.epochz: unknown key"):
        load_config(config, ["training.epochs=1"])  # the file's own error is the file's


def test_the_vectors_section_checks_its_keys_and_reads_paths_from_the_config(tmp_path: Path) -> None:
    config_file = tmp_path / "configs" / "c.yaml"
    config_file.parent.mkdir()
    config_file.write_text("model:\n  embedding:\n    vectors: {source: ../vectors/glove.txt, max_words: 50}\n")
    pretrained = load_config(config_file).model.embedding.vectors
    assert pretrained.source == str((tmp_path / "vectors" / "glove.txt").resolve())  # from the config's folder
    assert (pretrained.max_words, pretrained.join, pretrained.format) == (50, "concat", "auto")
    config_file.write_text("model:\n  embedding:\n    vectors: {source: glove-6b-50d}\n")
    named = load_config(config_file).model.embedding.vectors
    assert named.source == "glove-6b-50d" and named.resolved_path().name == "glove-6b-50d"  # a name stays a name
    for bad, message in [
        ("{source: x.txt, max_word: 5}", "model.embedding.vectors.max_word: unknown key"),
        (
            "{source: x.txt, join: add}",
            "model.embedding.vectors.join: Input should be 'concat', 'project' or 'init'",
        ),
        (
            "{source: x.txt, max_words: 0}",
            "model.embedding.vectors.max_words: Input should be greater than or equal to 1",
        ),
    ]:
        config_file.write_text(f"model:\n  embedding:\n    vectors: {bad}\n")
        with pytest.raises(ConfigError, match=re.escape(f"{config_file}: {message}")):
            load_config(config_file)
    config_file.write_text("model:\n  embedding: {kind: one_hot, vectors: {source: x.txt}}\n")
    with pytest.raises(ConfigError, match="word vectors join a learned table"):
        load_config(config_file)


def test_the_keys_renamed_in_05_still_load_with_one_note_each(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """0.4's model.encoder_features is model.transformer, model.embedding.pretrained is
    model.embedding.vectors: a config (file, dict or --set) with the old names is the same config."""
    old = tmp_path / "old.yaml"
    old.write_text(
        "model:\n  encoder_features: {source: ../tiny, mode: fine_tuned}\n"
        "  embedding:\n    pretrained: {source: glove.txt, join: project}\n"
    )
    new = tmp_path / "new.yaml"
    new.write_text(
        "model:\n  transformer: {source: ../tiny, mode: fine_tuned}\n"
        "  embedding:\n    vectors: {source: glove.txt, join: project}\n"
    )
    with caplog.at_level("WARNING", logger="slotfill.config"):
        assert load_config(old) == load_config(new)
    notes = [record.getMessage() for record in caplog.records]
    assert notes == [
        f"{old}: model.encoder_features is now called model.transformer (the old name still works)",
        f"{old}: model.embedding.pretrained is now called model.embedding.vectors (the old name still works)",
    ]
    caplog.clear()
    overridden = load_config(new, ["model.encoder_features.layers=[2]"])
    assert overridden.model.transformer.layers == [2] and overridden.model.transformer.mode == "fine_tuned"
    assert [r.getMessage() for r in caplog.records] == [
        "--set: model.encoder_features is now called model.transformer (the old name still works)"
    ]
    assert config_from_dict({"model": {"encoder_features": None}}).model.transformer is None  # a saved 0.4 config
    both = tmp_path / "both.yaml"
    both.write_text("model:\n  transformer: {source: a}\n  encoder_features: {source: b}\n")
    with pytest.raises(
        ConfigError, match=re.escape(f"{both}: model.encoder_features and model.transformer are the same setting")
    ):
        load_config(both)


def test_a_monitor_of_intents_needs_the_intent_head() -> None:
    with pytest.raises(
        ConfigError, match="training: Value error, monitor: intent_accuracy, but model.intent.enabled is false"
    ):
        config_from_dict({"model": {"intent": {"enabled": False}}, "training": {"monitor": "intent_accuracy"}})


def test_renaming_an_old_key_leaves_the_callers_dict_as_it_was() -> None:
    given = {"model": {"encoder_features": {"source": "x"}}}
    assert config_from_dict(given).model.transformer.source == "x"
    assert given == {"model": {"encoder_features": {"source": "x"}}}
