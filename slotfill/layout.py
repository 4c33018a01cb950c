"""The names of the files and folders slotfill writes, shared by every module that reads or writes them.

RUN_DIR/
    model/            the best model so far (a model directory)
    checkpoint/       resumable training state while a run is unfinished
    train_log.jsonl   one line per epoch
    .lock             held while a run writes here

exported model directory (slotfill export; run by onnxruntime, no torch):
    model.onnx  export.json (format version, CRF scores)  config.yaml  vocab.json  gazetteers/  metrics.json
    encoder/model.onnx  encoder/tokenizer.json   (a model with a transformer: its graph and word pieces)

downloaded vectors (slotfill vectors download; slotfill's own vectors format):
    words.txt (one word a line)  vectors.npy (N, D) float32

model directory (and checkpoint):
    config.yaml  vocab.json  gazetteers/  model.safetensors (checkpoint: state.safetensors + state.json)  metrics.json
"""

from __future__ import annotations

MODEL_SUBDIR = "model"
CHECKPOINT_SUBDIR = "checkpoint"
TRAIN_LOG = "train_log.jsonl"
RUN_LOCK = ".lock"
CONFIG_FILE = "config.yaml"
VOCAB_FILE = "vocab.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.json"
CALIBRATION_FILE = "calibration.json"
OUT_OF_SCOPE_INDEX = "out_of_scope.safetensors"  # the training utterances' states the distance reads
GAZETTEER_SUBDIR = "gazetteers"
CHECKPOINT_TENSORS = "state.safetensors"
CHECKPOINT_STATE = "state.json"
ONNX_FILE = "model.onnx"
TRANSFORMER_SUBDIR = "encoder"  # a model's transformer (model directory and export; its 0.3 folder name, kept)
EXPORT_FILE = "export.json"
VECTOR_WORDS_FILE = "words.txt"
VECTOR_TABLE_FILE = "vectors.npy"
# downloads, by kind: the environment variable that says where they are kept (else the user's cache
# folder of the kind's name); LEGACY_CACHES: the folder and variable a kind had before 0.5, still read
CACHES = {"datasets": "SLOTFILL_DATA", "vectors": "SLOTFILL_VECTORS", "transformers": "SLOTFILL_TRANSFORMERS"}
LEGACY_CACHES = {"transformers": ("encoders", "SLOTFILL_ENCODERS")}
