"""The ``givefirst`` command line: serve, keys, reindex, model, nightly, import, export, eval,
backup, restore.

Commands import the embedding and search code only when they run, so that the key commands (the
records alone) start in a fraction of a second.
"""

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, get_settings
from app.db import open_records, session_scope
from app.feeds.cli import feeds_cli
from app.imports.cli import export_command, import_cli
from app.workspaces import service as workspaces

cli = typer.Typer(
    help="Givefirst: for every contact, something helpful to send.", no_args_is_help=True
)
keys_cli = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
cli.add_typer(import_cli, name="import")
cli.add_typer(feeds_cli, name="feeds")
cli.command("export")(export_command)


def _open_sessions(settings: Settings) -> sessionmaker[Session]:
    return open_records(settings)[1]


def _export_model_once(settings: Settings) -> None:
    """The first start's slow step (about 40 s), shown as it runs instead of a silent wait."""
    from embeddings.factory import export_if_needed

    with _progress_reporter("model") as progress:
        try:
            export_if_needed(
                settings.model,
                backend=settings.embedding_backend,
                onnx_dir=settings.onnx_dir,
                progress=progress,
            )
        except (ImportError, OSError, RuntimeError, ValueError) as error:
            if settings.embedding_backend == "onnx":
                raise
            progress(f"The ONNX export failed ({error}): the model runs on torch")


def _say_where(settings: Settings) -> None:
    """Which records a command works on: a second data folder is a second, empty service."""
    typer.echo(f"Records: {settings.records_location()}", err=True)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the API server (Swagger UI at /docs)."""
    import uvicorn

    from app.main import create_app

    settings = get_settings()
    _say_where(settings)
    with session_scope(_open_sessions(settings), write=True) as session:
        first_key = workspaces.create_first_key_if_none(session=session)
    if first_key:
        typer.echo(
            f"No API key existed: created one for workspace '{workspaces.DEFAULT_WORKSPACE}'.\n"
            "Keep it; it is shown only once. Paste it into Authorize at "
            f"http://{host}:{port}/docs\n{first_key}"
        )
    _export_model_once(settings)
    uvicorn.run(create_app(settings), host=host, port=port)


@keys_cli.command("create")
def keys_create(workspace: Annotated[str, typer.Argument(help="Workspace name.")]) -> None:
    """Create a key for WORKSPACE (created if new). The key is the last line printed."""
    name = workspace.strip()
    if not name or len(name) > 100:
        typer.echo("Error: the workspace name must be 1 to 100 characters.", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    _say_where(settings)
    with session_scope(_open_sessions(settings), write=True) as session:
        ws, created = workspaces.get_or_create_workspace(session=session, name=name)
        key = workspaces.create_api_key(session=session, workspace=ws)
    typer.echo(f"{'Created' if created else 'Using'} workspace '{name}'. New API key (shown once):")
    typer.echo(key)


@keys_cli.command("list")
def keys_list() -> None:
    """List keys (id, workspace, prefix, created, revoked); the keys themselves are not stored."""
    with session_scope(_open_sessions(get_settings())) as session:
        for key in workspaces.list_api_keys(session=session):
            revoked = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            typer.echo(
                f"{key.id}\t{key.workspace.name}\t{key.prefix}…\t"
                f"{key.created_at:%Y-%m-%d}\t{revoked}"
            )


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="Key id from 'keys list'.")]) -> None:
    """Revoke a key: it stops working at once."""
    with session_scope(_open_sessions(get_settings()), write=True) as session:
        key = workspaces.revoke_api_key(session=session, key_id=key_id)
    if key is None:
        typer.echo(f"Error: no key with id {key_id}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Key {key_id} revoked.")


@cli.command()
def reindex() -> None:
    """Rebuild the vector index from the records (vectors come from the embedding cache).

    Needs the vector store to itself: stop `givefirst serve` first on the embedded default.
    """
    from app.runtime import VectorStoreLockedError, runtime_scope

    try:
        with (
            runtime_scope(get_settings(), repair=False) as runtime,
            session_scope(runtime.session_factory) as session,
        ):
            written = runtime.indexer.rebuild(session)
    except VectorStoreLockedError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Index rebuilt: {written} points.")


@cli.command()
def optimize() -> None:
    """Build HNSW for every large shard of the embedded vector store, so a search no longer scans
    every point (a shard under 30,000 points stays as it is; writes after this go to a new
    segment, scanned in full until the next run).

    Needs the vector store to itself: stop `givefirst serve` first on the embedded default (which
    builds the same in the background while it runs). A Qdrant server builds its own indexes.
    """
    from app.runtime import VectorStoreLockedError, runtime_scope
    from embeddings.index import EdgeIndex

    try:
        with runtime_scope(get_settings(), repair=False) as runtime:
            index = runtime.index
            if not isinstance(index, EdgeIndex):
                typer.echo("A Qdrant server builds its own indexes: nothing to do.")
                return
            shards, indexed = index.shards(), 0
            for workspace_id, kind in shards:
                started = time.perf_counter()
                changed = index.optimize(workspace_id, kind)
                seconds = time.perf_counter() - started
                indexed += changed
                state = "indexed" if changed else "unchanged"
                typer.echo(f"{workspace_id}-{kind}\t{state}\t{seconds:.1f} s")
            typer.echo(f"HNSW built for {indexed} of {len(shards)} shards.")
    except VectorStoreLockedError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from error


@cli.command()
def model() -> None:
    """Load the configured embedding model and say what runs it.

    On the ONNX backend the first use exports the graph into the cache folder (a few seconds);
    run this once after installing, or while building an image, so the server starts fast.
    """
    from app.runtime import configured_model
    from embeddings.onnx_backend import OnnxEmbedder

    settings = get_settings()
    _export_model_once(settings)
    try:
        embedder = configured_model(settings)
    except (OSError, ValueError, RuntimeError) as error:
        typer.echo(f"Error: cannot load the model: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"model\t{embedder.model_id}")
    typer.echo(f"dimension\t{embedder.dimension}")
    if isinstance(embedder, OnnxEmbedder):
        typer.echo(f"backend\tonnx\ngraph\t{embedder.graph}")
    else:
        typer.echo("backend\ttorch")


@cli.command()
def nightly(
    day: Annotated[
        str | None,
        typer.Option(
            "--date", help="The day to plan, YYYY-MM-DD. Default: today.", show_default=False
        ),
    ] = None,
    workspace: Annotated[
        str | None, typer.Option(help="Only this workspace (by name). Default: every workspace.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the digests (<id>-<workspace>/<date>.md and .json)."
            " Default: GIVEFIRST_DIGEST_DIR, else <data folder>/digests.",
            show_default=False,
        ),
    ] = None,
    budget: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=100,
            help="Most contacts on a day's list. Default: GIVEFIRST_DAILY_BUDGET (5).",
            show_default=False,
        ),
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(
            help="Also POST each digest's JSON here, signed with GIVEFIRST_WEBHOOK_SECRET"
            " (header X-Givefirst-Signature: sha256=HMAC), retried on failure.",
            show_default=False,
        ),
    ] = None,
    email: Annotated[
        bool,
        typer.Option(
            "--email",
            help="Also e-mail each digest (GIVEFIRST_SMTP_HOST, _PORT, _TLS, _USER, _PASSWORD,"
            " _FROM, _TO).",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the lists; store, write and send nothing."),
    ] = False,
    feeds: Annotated[
        bool,
        typer.Option(
            "--feeds/--no-feeds",
            help="Poll the subscribed feeds first (as `givefirst feeds poll`), so the lists and"
            ' the digests\' "New this week" see what they brought.',
        ),
    ] = True,
) -> None:
    """Build the day's list of whom to help for every workspace, and write the digests.

    Safe to run while `givefirst serve` runs on the same data folder, and safe to run again:
    a list already built for the day is kept as it is, and nothing is delivered twice.

    Exit codes: 0 done; 1 cannot run; 2 bad option; 3 a delivery failed (the list is stored);
    4 a list could not be built, the database staying busy with another write (the others are
    built; the next run builds it).
    """
    from app.daily.digest import render_markdown
    from app.daily.nightly import NightlyError, NightlyOptions, run_nightly

    try:
        when = date.fromisoformat(day) if day else date.today()
    except ValueError:
        typer.echo(f"Error: --date {day!r} is not a date like 2026-11-22.", err=True)
        raise typer.Exit(2) from None
    options = NightlyOptions(
        day=when,
        workspace=workspace,
        out_dir=out,
        webhook_url=webhook,
        email=email,
        dry_run=dry_run,
        budget=budget,
        poll_feeds=feeds,
    )
    try:
        with _progress_reporter() as progress:
            outcomes = run_nightly(get_settings(), options, progress)
    except NightlyError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from error
    for outcome in outcomes:
        if outcome.daily is not None and dry_run:
            typer.echo(render_markdown(outcome.daily, new_items=outcome.new_items))
        elif outcome.files:
            typer.echo(f"{outcome.workspace}: {outcome.files[0]} and {outcome.files[1]}")
    failures = [error for outcome in outcomes for error in outcome.errors]
    for failure in failures:
        typer.echo(f"Error: delivery failed: {failure}", err=True)
    not_built = [outcome for outcome in outcomes if outcome.daily is None]
    for outcome in not_built:
        typer.echo(
            f"Error: no list built for workspace {outcome.workspace!r}: {outcome.not_built}; "
            "the other lists are built, and the next run builds this one.",
            err=True,
        )
    if not_built:
        raise typer.Exit(4)
    if failures:
        raise typer.Exit(3)


@cli.command("eval")
def evaluate(
    dataset: Annotated[
        Path,
        typer.Option(
            help="A folder in BEIR layout: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.",
            exists=True,
            file_okay=False,
        ),
    ],
    split: Annotated[
        str,
        typer.Option(
            help="The split to score, or several joined by commas (train,val): qrels/<split>.tsv "
            "and queries_<split>.jsonl where they exist; queries that carry a source_split "
            "are cut by it."
        ),
    ] = "test",
    limit_queries: Annotated[
        int | None,
        typer.Option(
            min=1, help="Only the first N judged queries (a quick run).", show_default=False
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="Keep the embedding cache here, so a re-run embeds nothing twice."
            " Default: a temporary folder.",
            show_default=False,
        ),
    ] = None,
    reference: Annotated[
        bool,
        typer.Option(
            "--reference",
            help="Also rank with one vector per document, as BEIR and MTEB do (a pipeline check).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Also print the figures as JSON on the last line.")
    ] = False,
) -> None:
    """Measure match quality on a retrieval dataset: nDCG@10, Recall@10 and MRR@10 of BM25
    alone, dense alone and the engine's default ranking, in a fresh temporary workspace.

    The model and the engine's settings come from the GIVEFIRST_* variables as for the server.
    """
    import time

    from app.evaluation import evaluate as run_evaluation
    from app.evaluation import load_dataset

    started = time.perf_counter()
    try:
        data = load_dataset(dataset, split, limit_queries)
    except (OSError, ValueError, KeyError) as error:
        typer.echo(f"Error: cannot read the dataset in {dataset}: {error}", err=True)
        raise typer.Exit(1) from error
    with _progress_reporter("eval") as progress:
        report = run_evaluation(
            data, get_settings(), cache_dir=cache_dir, reference=reference, progress=progress
        )
    report.seconds["total"] = time.perf_counter() - started
    typer.echo(report.render())
    if as_json:
        typer.echo(report.json_line())


@contextmanager
def _progress_reporter(name: str = "nightly") -> Iterator[Callable[[str], None]]:
    """A progress line that redraws on a terminal; plain timestamped log lines otherwise."""
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status("Starting…") as status:
            yield lambda message: status.update(message)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"%(asctime)s {name}: %(message)s"))
    logger = logging.getLogger(f"givefirst.{name}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield logger.info
    finally:
        logger.removeHandler(handler)


@cli.command("backup")
def backup_command(
    path: Annotated[Path, typer.Argument(help="A new or empty folder for the backup.")],
) -> None:
    """Copy the records and the embedding cache to PATH, consistently, while the server runs.

    The vector index is not copied: `givefirst restore` rebuilds it from the records.
    """
    from app.backup import BackupError, backup

    try:
        manifest = backup(get_settings(), path)
    except BackupError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Backed up {', '.join(manifest['files'])} to {path}.")


@cli.command("restore")
def restore_command(
    path: Annotated[Path, typer.Argument(help="A folder made by `givefirst backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace what the data folder holds.")
    ] = False,
) -> None:
    """Bring a backup back into the data folder (which must be empty, unless --force) and
    rebuild the vector index from it. Stop `givefirst serve` first."""
    from app.backup import BackupError, restore

    try:
        points = restore(get_settings(), path, force=force)
    except BackupError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Restored {path} into {get_settings().data_dir}; index rebuilt: {points} points.")


def main() -> None:
    cli()
