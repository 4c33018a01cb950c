"""Every set of choices a user can make, in one place (config, CLI help and the code read them here).

Torch-free, so that the CLI can show them without importing torch.
"""

from __future__ import annotations

DEVICES = ("auto", "cpu", "cuda")  # "cuda:N" is accepted too
# plus "auto": recognised from the path. Token formats: atis, conll, jsonl; raw text with character
# spans, tokenised by slotfill: spans (JSON lines), rasa (Rasa NLU YAML), snips (Snips NLU JSON),
# polyai (PolyAI's span-extraction JSON: turns with the slots the system requested)
DATA_FORMATS = ("atis", "conll", "jsonl", "spans", "rasa", "snips", "polyai")
# what training does with an annotated span that does not fall on token boundaries ("friday" in "friday's")
MISALIGNED = ("expand", "contract", "skip_sentence", "error")
# what reading does with two slots that overlap as annotated ("in an hour" inside "today in an hour")
OVERLAPPING = ("longer", "skip_sentence", "error")
# what reading does with punctuation tokens at a slot's edge ("5:30 pm ." as a time; never inside: "St. Louis")
SPAN_PUNCTUATION = ("trim", "keep", "error")
DATASETS = (
    "atis",
    "snips",
    "xsid",
    "clinc150",
    "dstc8",
)  # `slotfill data download NAME` (slotfill.data.datasets.SOURCES)
CELLS = ("rnn", "jordan", "gru", "lstm", "peephole_lstm", "cifg_lstm")
FUSED_CELLS = ("rnn", "gru", "lstm")  # torch's own modules; the others are slotfill's cells
EMBEDDING_KINDS = ("learned", "one_hot", "letter_trigram")
# pretrained word vectors (model.embedding.vectors): sources `slotfill vectors download` knows,
# the file formats read, and how the vectors join the learned table (docs/vectors.md)
VECTOR_SOURCES = ("glove-6b-50d",)
VECTOR_FORMATS = ("auto", "glove", "word2vec", "fasttext", "word2vec_binary", "slotfill")
VECTOR_JOINS = ("concat", "project", "init")
# a pretrained transformer as one more input feature (model.transformer; docs/transformers.md):
# the sources `slotfill transformers download` knows, how its word pieces become one
# feature per token, and how it is trained (frozen: computed without gradient; fine_tuned: trained
# with the tagger, at its own learning rate)
TRANSFORMER_SOURCES = ("all-minilm-l6-v2",)
TRANSFORMER_POOLINGS = ("mean", "first")
TRANSFORMER_MODES = ("frozen", "fine_tuned")
DECODERS = ("crf", "softmax")
# how a model reads the dialogue context, the slots the system requested (model.context;
# docs/dialogue-context.md): as an input of every token (input), as a learned bias of the tag and
# intent scores (bias), or both
CONTEXT_FEEDS = ("input", "bias", "both")
LR_SCHEDULES = ("constant", "linear")
# how a model rejects an utterance outside its intents (out_of_scope.method; docs/out-of-scope.md)
OUT_OF_SCOPE_LABEL = "oos"  # the default intent label of out-of-scope utterances (CLINC150's; out_of_scope.intent)
REJECTIONS = ("distance", "confidence", "class")
REJECTION_REASONS = ("out_of_scope", "ambiguous")  # a rejected parse's `rejected`
# the scores of a parse (higher is better): what early stopping can watch on dev (or the dev loss,
# lower is better), and what `info` and the training curves show
SCORES = ("slot_f1", "intent_accuracy", "sentence_accuracy")
MONITORS = (*SCORES, "loss")
# the metrics train, cv and the report lead with (evaluate adds the rejection's beside intent_accuracy)
HEADLINE_METRICS = ("slot_f1", "slot_precision", "slot_recall", "intent_accuracy", "sentence_accuracy")
BUILTIN_GAZETTEERS = ("city", "airport", "airport_code", "state")
# slot values (docs/values.md): the resolvers a `values:` rule can name (also "entry:LIST"),
# and the rules a config without a `values:` section gets; first matching pattern wins
# `values:` keys that are options, not slot-label rules (slotfill.values.typed, docs/values.md)
VALUE_OPTIONS = ("date_order", "hours", "days")
DATE_ORDERS = ("dmy", "mdy")
HOUR_READINGS = ("evening", "day", "morning")
VALUE_RESOLVERS = (
    "date", "time", "datetime", "number", "money", "percent", "level", "temperature", "duration",
    "city", "airport", "state", "entry", "none",
)  # fmt: skip
DEFAULT_VALUE_RULES = {
    "timeRange": "datetime",
    "*date*": "date",
    "*day_name": "date",
    "*day_number": "date",
    "*month_name": "date",
    "*today_relative": "date",
    "*time*": "time",
    "*period_of_day": "time",
    "*period_mod": "time",
    "*city_name": "city",
    "city": "city",
    "*airport_name": "airport",
    "*airport_code": "airport",
    "*state_name": "state",
    "*state_code": "state",
    "*number*": "number",
    "*rating*": "number",
    "year": "number",
    "*amount*": "money",
    "*price*": "money",
    "*percent*": "percent",
    "level": "level",
    "*temperature": "temperature",
    "*duration*": "duration",
    "*": "entry",
}


def one_of(choices: tuple[str, ...]) -> str:
    """`auto | cpu | cuda`, for help texts."""
    return " | ".join(choices)


def check_choice(value: str, choices: tuple[str, ...], where: str) -> str:
    """`value` if it is one of `choices`; else a ConfigError naming `where` (a key or an option)."""
    from slotfill.errors import ConfigError

    if value not in choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value


MAX_ALTERNATIVES = 10  # the k best intents and tag sequences a parse can give (CLI, HTTP, Python)
MAX_GAZETTEERS = 31  # lists a model can read: two feature bits each must fit a positive int64
