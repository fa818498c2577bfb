"""The ``specql`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from app import __version__
from app.errors import ConfigurationError, SpecQLError

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


@cli.command()
def serve(
    models: str = typer.Argument(None, help=_MODELS_HELP, show_default=False),
    data_dir: str = typer.Option(".specql", help="Where the disk profile keeps data."),
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

    try:
        app = serving.build_app(models, data_dir, user_header=user_header)
    except (ConfigurationError, SpecQLError) as exc:
        _fail(exc)
    _tune_gc()
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/graphql"
    typer.echo(f"SpecQL serving {models or 'the example app'} from {data_dir}")
    typer.echo(f"GraphiQL: {url}")
    if reload:
        os.environ[serving.ENV_MODELS] = models or ""
        os.environ[serving.ENV_DATA_DIR] = data_dir
        os.environ[serving.ENV_USER_HEADER] = user_header or ""
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
