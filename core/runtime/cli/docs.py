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


def _rewrite_between(path: Path, start: str, end: str, text: str) -> None:
    """Replace what lies between the `start` and `end` markers of `path` with `text`."""
    try:
        text_in = path.read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    if start not in text_in or end not in text_in:
        raise ConfigurationError(
            f"{path} has no {start.strip()} … {end} markers",
            suggestion="add both markers, on lines of their own, where the list belongs",
        )
    head, rest = text_in.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(head + start + text + end + tail)


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
    _rewrite_between(readme, CODES_START, CODES_END, table)
    click.echo(f"wrote the error codes into {readme}")


ARCHITECTURE_FILE = README_FILE.parent / "docs" / "architecture.md"
MAP_START, MAP_END = "<!-- package-map:start -->\n", "<!-- package-map:end -->"


def _lines(path: Path) -> int:
    with path.open("rb") as file:
        return sum(1 for _ in file)


def _is_source(path: Path) -> bool:
    return path.is_dir() and path.name not in ("tests", "__pycache__") and any(path.rglob("*.py"))


def package_map(root: Path) -> str:
    """A Markdown table: every package of core/, schema/ and plugins/ (tests left out) with its
    modules, lines and largest module; a sub-package (cli/, migrations/) on a row of its own;
    then each of the three folders' totals without its migrations."""
    rows = ["| Package | Modules | Lines | Largest module (lines) |", "|---|---:|---:|---|"]
    totals: list[str] = []  # per top-level folder, migrations left out (they are history)
    for top in ("core", "schema", "plugins"):
        code = [0, 0]
        base = root / top
        groups = [(f"`{top}/*.py`", sorted(base.glob("*.py")))]
        for package in sorted(p for p in base.iterdir() if _is_source(p)):
            groups.append((f"`{top}/{package.name}/`", sorted(package.glob("*.py"))))
            for sub in sorted(p for p in package.iterdir() if _is_source(p)):
                modules = sorted(m for m in sub.rglob("*.py") if "__pycache__" not in m.parts)
                groups.append((f"`{top}/{package.name}/{sub.name}/`", modules))
        for label, modules in groups:
            if not modules:
                continue
            sizes = {m: _lines(m) for m in modules}
            largest = max(sizes, key=lambda m: sizes[m])
            name = largest.relative_to(root).as_posix()
            rows.append(
                f"| {label} | {len(modules)} | {sum(sizes.values()):,} | "
                f"`{name}` ({sizes[largest]}) |"
            )
            if "migrations" not in label:
                code[0] += len(modules)
                code[1] += sum(sizes.values())
        totals.append(f"| `{top}/` without migrations | {code[0]} | {code[1]:,} | |")
    return "\n".join(rows + totals) + "\n"


@docs.command("package-map")
@click.option(
    "--doc",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Rewrite the table between the package-map markers (e.g. {ARCHITECTURE_FILE}).",
)
@fail_cleanly
def docs_package_map(doc: Path | None) -> None:
    """Print the packages of the source tree with their line counts (for docs/architecture.md)."""
    table = package_map(README_FILE.parent)
    if doc is None:
        click.echo(table, nl=False)
        return
    _rewrite_between(doc, MAP_START, MAP_END, table)
    click.echo(f"wrote the package map into {doc}")
