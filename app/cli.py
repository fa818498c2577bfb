"""The ``specql`` command."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from app import __version__
from app.config import Settings
from app.errors import ConfigurationError, SpecQLError

if TYPE_CHECKING:
    from app.resources.manager import OrphanReport
    from app.storage.sql.migrate import SchemaState

T = TypeVar("T")

cli = typer.Typer(help="SpecQL: versioned resources from msgspec Structs.", no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"specql {__version__}")
        raise typer.Exit()


@cli.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """SpecQL command line."""


@cli.command()
def demo(
    data_dir: str = typer.Option(".specql-demo", help="Where the disk profile keeps data."),
) -> None:
    """Run the bundled example app on the disk profile and print what it does."""
    import asyncio

    from app.example import tour

    try:
        asyncio.run(tour(data_dir, typer.echo))
    except (SpecQLError, ConfigurationError) as exc:
        _fail(exc)


_MODELS_HELP = (
    "A Python file or module with a Registry (models.py, models.py:registry, pkg.models); "
    "without it, the bundled example app."
)


# Storage options shared by the commands that open stores; each falls back to
# its SPECQL_* environment variable, then to the default (see Settings).
_DATA_DIR = typer.Option(
    None, help="Where the disk and s3 profiles keep the SQLite file [env SPECQL_DATA_DIR; .specql]."
)
_PROFILE = typer.Option(
    None,
    help="memory, disk, s3 or postgres [env SPECQL_PROFILE; postgres when a database URL "
    "is given, else s3 when an S3 URL is, else disk].",
)
_DATABASE_URL = typer.Option(
    None, help="postgresql://user:password@host:5432/db [env SPECQL_DATABASE_URL]."
)
_S3_URL = typer.Option(
    None, help="s3://bucket/prefix?endpoint=http://host:9000 [env SPECQL_S3_URL]."
)


def _settings(
    data_dir: str | None, profile: str | None, database_url: str | None, s3_url: str | None
) -> Settings:
    """Settings from the storage options, then SPECQL_* variables, then
    defaults; a profile whose driver is not installed stops here."""
    from app.storage.profiles import check_drivers

    try:
        settings = Settings.from_env(
            None, data_dir=data_dir, profile=profile, database_url=database_url, s3_url=s3_url
        )
        check_drivers(settings)
    except ConfigurationError as exc:
        _fail(exc)
    return settings


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's async work; a user error ends it with one clear line."""
    import asyncio

    try:
        return asyncio.run(work)
    except (ConfigurationError, SpecQLError) as exc:
        _fail(exc)


@cli.command()
def serve(
    models: str = typer.Argument(None, help=_MODELS_HELP, show_default=False),
    data_dir: str = _DATA_DIR,
    profile: str = _PROFILE,
    database_url: str = _DATABASE_URL,
    s3_url: str = _S3_URL,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    reload: bool = typer.Option(False, help="Restart when Python files change (development)."),
    user_header: str = typer.Option(
        None,
        help="Development only: take the acting user from this request header "
        "(e.g. x-specql-user).",
    ),
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql in a browser)."""
    import os

    import uvicorn

    from app.api import serve as serving

    options = {
        "data_dir": data_dir,
        "profile": profile,
        "database_url": database_url,
        "s3_url": s3_url,
    }
    settings = _settings(data_dir, profile, database_url, s3_url)
    try:
        app = serving.build_app(models, settings, user_header=user_header)
    except (ConfigurationError, SpecQLError) as exc:
        _fail(exc)
    _tune_gc()
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/graphql"
    typer.echo(f"SpecQL serving {models or 'the example app'} on {_where(settings)}")
    typer.echo(f"GraphiQL: {url}")
    if reload:
        os.environ[serving.ENV_MODELS] = models or ""
        os.environ[serving.ENV_USER_HEADER] = user_header or ""
        for name, value in options.items():
            if value is not None:
                os.environ[f"SPECQL_{name.upper()}"] = value
        uvicorn.run(
            "app.api.serve:app_from_env",
            factory=True,
            host=host,
            port=port,
            reload=True,
            log_level="warning",
        )
    else:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _where(settings: Settings) -> str:
    """The profile and where it keeps data, without secrets."""
    if settings.profile == "memory":
        return "the memory profile (nothing is kept)"
    places = []
    if settings.profile == "postgres":
        places.append(repr(settings).split("database_url=", 1)[1].split(",", 1)[0])
    else:
        places.append(settings.data_dir)
    if settings.revision_store == "s3" and settings.s3_url:
        places.append(settings.s3_url.split("?", 1)[0])
    return f"the {settings.profile} profile ({', '.join(places)})"


@cli.command("gc")
def collect_garbage(
    models: str = typer.Argument(None, help=_MODELS_HELP, show_default=False),
    data_dir: str = _DATA_DIR,
    profile: str = _PROFILE,
    database_url: str = _DATABASE_URL,
    s3_url: str = _S3_URL,
    grace: float = typer.Option(
        3600.0, help="Seconds a payload must have existed; keep it far above your slowest write."
    ),
    dry_run: bool = typer.Option(False, help="List the orphans, delete nothing."),
) -> None:
    """Delete orphan revision payloads (left by writes that failed or crashed
    before their meta committed). Safe while replicas write."""
    from app.api.serve import load_registry

    settings = _settings(data_dir, profile, database_url, s3_url)

    async def collect() -> OrphanReport:
        manager = await load_registry(models).open(settings)
        try:
            return await manager.collect_orphans(grace_seconds=grace, dry_run=dry_run)
        finally:
            await manager.close()

    report = _run(collect())
    for key in report.orphans:
        typer.echo(f"orphan: {key.model} revision {key.revision_id} ({key.data_hash})")
    verb = "would delete" if dry_run else "deleted"
    typer.echo(
        f"scanned {report.scanned} payloads: {len(report.orphans)} orphans older than "
        f"{grace:g} s, {verb} {len(report.orphans) if dry_run else report.deleted}"
    )


db = typer.Typer(help="Migrate and inspect the database of a profile.", no_args_is_help=True)
cli.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade(
    models: str = typer.Argument(None, help=_MODELS_HELP, show_default=False),
    data_dir: str = _DATA_DIR,
    profile: str = _PROFILE,
    database_url: str = _DATABASE_URL,
    s3_url: str = _S3_URL,
) -> None:
    """Apply SpecQL's migrations and create or extend the models' index tables
    (backfilling new indexed fields). Safe to run again, and from several
    replicas at once: one applies, the others wait."""
    from app.api.serve import load_registry

    settings = _settings(data_dir, profile, database_url, s3_url)

    async def upgrade() -> list[str]:
        manager = await load_registry(models).open(settings)
        await manager.close()
        return list(getattr(manager.stores.meta, "schema_changes", []))

    changes = _run(upgrade())
    if not changes:
        typer.echo("already up to date: nothing to do")
    for change in changes:
        typer.echo(change)


@db.command("current")
def db_current(
    models: str = typer.Argument(None, help=_MODELS_HELP, show_default=False),
    data_dir: str = _DATA_DIR,
    profile: str = _PROFILE,
    database_url: str = _DATABASE_URL,
    s3_url: str = _S3_URL,
) -> None:
    """Show the applied migration and each model's table state; exit 1 when
    an upgrade is pending, or when a model cannot read its stored resources
    (the same line ``specql serve`` refuses to start with). Changes nothing."""
    settings = _settings(data_dir, profile, database_url, s3_url)
    state, unreadable = _run(_schema_state(models, settings))
    typer.echo(f"database: {_where(settings)}")
    shown = state.revision or "(none: run specql db upgrade)"
    typer.echo(f"migration: {shown}" + (" (head)" if state.revision == state.head else ""))
    for name, model_state in state.models.items():
        told = "stored resources do not fit the model" if name in unreadable else model_state
        typer.echo(f"  {name}: {told}")
    if unreadable:
        _fail(next(iter(unreadable.values())))
    if not state.up_to_date:
        typer.echo("an upgrade is pending: run specql db upgrade")
        raise typer.Exit(1)


async def _schema_state(
    models: str | None, settings: Settings
) -> tuple[SchemaState, dict[str, ConfigurationError]]:
    """The schema state, and per model whose shape changed and whose stored
    resources it cannot read, why."""
    from app.api.serve import load_registry
    from app.resources.compat import check_stored
    from app.storage.profiles import open_stores

    registry = load_registry(models)
    registry.check()
    stores = open_stores(settings)
    try:
        specs = list(registry.specs.values())
        fmt = settings.payload_format
        state: SchemaState = await stores.meta.schema_state(specs, fmt)  # type: ignore[attr-defined]
        unreadable: dict[str, ConfigurationError] = {}
        for name, recorded in state.changed.items():
            spec = registry.specs[name]
            try:
                await check_stored(spec, recorded, stores.meta, stores.revisions, fmt)
            except ConfigurationError as exc:
                unreadable[name] = exc
        return state, unreadable
    finally:
        await stores.close()


@cli.command()
def schema(
    models: str = typer.Argument(None, help=_MODELS_HELP, show_default=False),
) -> None:
    """Print the GraphQL schema (SDL) of the models."""
    from app.api.serve import load_registry
    from schema_gen import build_schema

    try:
        registry = load_registry(models)
        registry.check()
        built, _ = build_schema(registry.specs)
    except (ConfigurationError, SpecQLError) as exc:
        _fail(exc)
    typer.echo(built.as_str())


codegen = typer.Typer(help="Generate typed clients from the GraphQL schema.", no_args_is_help=True)
cli.add_typer(codegen, name="codegen")


@codegen.command("ts")
def codegen_ts(
    out: Annotated[
        Path, typer.Option(help="Directory to write the client to (created if missing).")
    ],
    models: Annotated[
        str | None,
        typer.Argument(help=_MODELS_HELP + " Leave it out with --url.", show_default=False),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="Read the schema from a running server instead, "
            "e.g. http://127.0.0.1:8000/graphql."
        ),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option(help="With --url: a request header as 'name: value' (repeatable)."),
    ] = None,
    name: Annotated[str, typer.Option(help="The package name in package.json.")] = (
        "specql-client"
    ),
) -> None:
    """Write a typed TypeScript client (a small package, no dependencies) to --out."""
    from app.api.serve import load_registry
    from frontend_codegen import CodegenError, generate, introspect
    from frontend_codegen.write import write

    try:
        if models and url:
            raise CodegenError("give MODELS or --url, not both")
        headers = dict(_header(text) for text in header or [])
        if url:
            schema = introspect.from_url(url, headers)
        else:
            schema = introspect.from_registry(load_registry(models))
        files = generate(schema, package_name=name)
        write(files, out)
    except (CodegenError, ConfigurationError, SpecQLError) as exc:
        _fail(exc)
    typer.echo(f"wrote {', '.join(f.path for f in files)} to {out}")


def _header(text: str) -> tuple[str, str]:
    from frontend_codegen import CodegenError

    key, colon, value = text.partition(":")
    if not colon or not key.strip():
        raise CodegenError(f"--header must be 'name: value', not {text!r}")
    return key.strip(), value.strip()


def _tune_gc() -> None:
    """Objects made at startup (schema, modules) are frozen out of collection,
    and young-generation collections run less often: a request leaves short
    reference cycles (graphql-core), and frequent full passes over the
    long-lived heap showed up as 100+ ms pauses in W2."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def _fail(exc: Exception) -> NoReturn:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def main() -> None:
    cli()
