"""The ``specql`` command."""

from __future__ import annotations

import typer

from app import __version__

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

    from app.errors import ConfigurationError, SpecQLError
    from app.example import tour

    try:
        asyncio.run(tour(data_dir, typer.echo))
    except (SpecQLError, ConfigurationError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


def main() -> None:
    cli()
