"""The adapted model's name (:mod:`kb.embed.adapt`): one folder per training data and settings."""

from __future__ import annotations

import dataclasses

from kb.embed.adapt import adapted_folder_name, training_digest
from kb.embed.adapt_config import FastTuneConfig
from kb.embed.tune_pairs import TrainingPair

PAIRS = [TrainingPair("住民票はどこで", "市民課の窓口です"), TrainingPair("粗大ごみ", "電話で申込")]


def test_the_digest_follows_the_pairs_and_the_settings_and_nothing_else() -> None:
    config = FastTuneConfig()
    digest = training_digest(PAIRS, config)
    assert digest == training_digest(list(PAIRS), FastTuneConfig())
    assert digest != training_digest(PAIRS[:1], config)
    assert digest != training_digest([*PAIRS, TrainingPair("a", "b")], config)
    other = dataclasses.replace(config, train_layers=config.train_layers + 1)
    assert digest != training_digest(PAIRS, other)
    name = adapted_folder_name("intfloat/multilingual-e5-small", digest)
    assert name == f"adapted-multilingual-e5-small-{digest[:10]}"
