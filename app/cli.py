"""The ``givefirst`` command line: serve, keys, reindex, import, export."""

from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, get_settings
from app.db import session_scope
from app.imports.cli import export_command, import_cli
from app.runtime import VectorStoreLockedError, open_database, runtime_scope
from app.workspaces import service as workspaces

cli = typer.Typer(
    help="Givefirst: for every contact, something helpful to send.", no_args_is_help=True
)
keys_cli = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
cli.add_typer(import_cli, name="import")
cli.command("export")(export_command)


def _open_sessions(settings: Settings) -> sessionmaker[Session]:
    return open_database(settings).session_factory


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the API server (Swagger UI at /docs)."""
    import uvicorn

    from app.main import create_app

    settings = get_settings()
    with session_scope(_open_sessions(settings)) as session:
        first_key = workspaces.create_first_key_if_none(session=session)
    if first_key:
        typer.echo(
            f"No API key existed: created one for workspace '{workspaces.DEFAULT_WORKSPACE}'.\n"
            "Keep it; it is shown only once. Paste it into Authorize at "
            f"http://{host}:{port}/docs\n{first_key}"
        )
    uvicorn.run(create_app(settings), host=host, port=port)


@keys_cli.command("create")
def keys_create(workspace: Annotated[str, typer.Argument(help="Workspace name.")]) -> None:
    """Create a key for WORKSPACE (created if new). The key is the last line printed."""
    name = workspace.strip()
    if not name or len(name) > 100:
        typer.echo("Error: the workspace name must be 1 to 100 characters.", err=True)
        raise typer.Exit(2)
    with session_scope(_open_sessions(get_settings())) as session:
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
    with session_scope(_open_sessions(get_settings())) as session:
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
    try:
        with runtime_scope(get_settings(), repair=False) as runtime:
            assert runtime.indexer is not None
            with session_scope(runtime.session_factory) as session:
                written = runtime.indexer.rebuild(session)
    except VectorStoreLockedError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Index rebuilt: {written} points.")


def main() -> None:
    cli()
