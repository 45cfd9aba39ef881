"""`linkstar schema export` and `linkstar docs error-codes`: files generated from the code."""

from __future__ import annotations

from pathlib import Path

import click

from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.errors import ConfigurationError
from linkstar.core.runtime.cli.base import SCHEMA_FILE, fail_cleanly


@click.group()
def schema() -> None:
    """The composed GraphQL schema."""


def _composed_sdl(installed: bool) -> str:
    from linkstar.core.contract.registry import load_built_in_registry, load_registry
    from linkstar.schema.compose import compose_schema, sdl

    if not installed:
        return sdl(compose_schema(load_built_in_registry()))
    settings = Settings.from_env()
    return sdl(compose_schema(load_registry(settings.disabled_plugins)))


@schema.command("export")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Where to write [default: {SCHEMA_FILE} for the core's SDL, stdout with --installed].",
)
@click.option(
    "--installed",
    is_flag=True,
    help="Compose every installed and enabled plugin (a plugin author's view), not only the "
    "built-in ones that the committed SDL describes.",
)
@fail_cleanly
def schema_export(output: Path | None, installed: bool) -> None:
    """Write the SDL of the core and its built-in plugins (commit schema/schema.graphql).

    With --installed, the graph as this installation serves it, third-party plugins included:
    never written over the core's committed SDL.
    """
    text_out = _composed_sdl(installed)
    if output is None and installed:
        click.echo(text_out, nl=False)
        return
    output = output or SCHEMA_FILE
    if installed and output.resolve() == SCHEMA_FILE:
        raise ConfigurationError(
            f"{SCHEMA_FILE} describes the built-in plugins only",
            suggestion="write the installed graph elsewhere with --output, or to stdout",
        )
    try:
        output.write_text(text_out)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}")


@click.group()
def docs() -> None:
    """Documentation generated from the code."""


README_FILE = SCHEMA_FILE.parent.parent / "README.md"
CODES_START, CODES_END = "<!-- error-codes:start -->\n", "<!-- error-codes:end -->"


@docs.command("error-codes")
@click.option(
    "--readme",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Rewrite the list between the error-codes markers of this file (e.g. {README_FILE}).",
)
@fail_cleanly
def docs_error_codes(readme: Path | None) -> None:
    """Print every `extensions.code` with its meaning (from core/kernel/errors.py)."""
    from linkstar.core.kernel.errors import error_code_table

    table = error_code_table()
    if readme is None:
        click.echo(table, nl=False)
        return
    try:
        text_in = readme.read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {readme}: {exc.strerror}") from None
    if CODES_START not in text_in or CODES_END not in text_in:
        raise ConfigurationError(
            f"{readme} has no {CODES_START.strip()} … {CODES_END} markers",
            suggestion="add both markers, on lines of their own, where the list belongs",
        )
    head, rest = text_in.split(CODES_START, 1)
    _, tail = rest.split(CODES_END, 1)
    readme.write_text(head + CODES_START + table + CODES_END + tail)
    click.echo(f"wrote the error codes into {readme}")
