"""`linkstar serve`: the API under uvicorn, with one or several workers."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from pathlib import Path

import click

from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.errors import ConfigurationError
from linkstar.core.runtime.cli.base import check_database, fail_cleanly

METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics_between_workers(workers: int) -> Path | None:
    """Before starting several workers: give them a shared, empty metrics directory.

    Must run before `prometheus_client` is first imported in this process (the client picks
    its storage at import time); the workers inherit the variable. A directory named by the
    operator loses its old sample files (a previous run's would be summed in); otherwise a new
    temporary one is made. Returns a temporary directory to remove afterwards, else None.
    """
    if workers <= 1:
        return None
    named = os.environ.get(METRICS_DIR_ENV)
    if named:
        directory = Path(named)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return None
    directory = Path(tempfile.mkdtemp(prefix="linkstar-metrics-"))
    os.environ[METRICS_DIR_ENV] = str(directory)
    return directory


def check_port(host: str, port: int) -> None:
    """One clear line for a port out of range or already in use (before uvicorn starts)."""
    import socket

    if not 0 <= port <= 65535:
        raise ConfigurationError(
            f"--port must be between 1 and 65535 (0: any free port), not {port}"
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigurationError(f"cannot resolve --host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen on {host}:{port}: {exc.strerror}",
                suggestion="stop what uses that port or choose another with --port",
            ) from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@fail_cleanly
def serve(host: str, port: int, workers: int) -> None:
    """Serve the GraphQL API with uvicorn (JSON logs on stderr, metrics at /metrics)."""
    temporary = share_metrics_between_workers(workers)  # before the metrics client loads
    # Start-up allocates a few hundred thousand objects that live as long as the process
    # (modules, types, the schema): the collector's passes over them while they are being
    # made were ~15 % of start-up, and find nothing. Collection resumes once the app is
    # built; the app's lifespan then freezes those objects out of the collector's way.
    gc.disable()
    try:
        import uvicorn

        from linkstar.core.contract.registry import load_registry
        from linkstar.core.runtime.app import create_app
        from linkstar.core.runtime.edge import HTTP_PROTOCOL
        from linkstar.core.runtime.observability import log_config
        from linkstar.schema.compose import compose_schema

        settings = Settings.from_env()
        # Plugins and the schema fail here, not in a worker. One worker serves the app built
        # by this very check, so the schema is composed once (a good part of start-up).
        app = create_app(settings) if workers == 1 else None
        if app is None:
            compose_schema(load_registry(settings.disabled_plugins))
    finally:
        gc.enable()
    check_port(host, port)
    check_database(settings.database_url, migrated=True)
    click.echo(f"LinkStar ({settings.environment}) on http://{host}:{port}/graphql", err=True)
    logging = {"log_config": log_config(), "access_log": False}  # one record per request
    # proxy_headers=False: the app believes X-Forwarded-For only from LINKSTAR_TRUSTED_PROXIES
    if app is not None:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="info",
            http=HTTP_PROTOCOL,
            proxy_headers=False,
            **logging,
        )
    else:
        try:
            uvicorn.run(
                "linkstar.core.runtime.app:create_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                http=HTTP_PROTOCOL,
                proxy_headers=False,
                **logging,
            )
        finally:
            if temporary is not None:
                shutil.rmtree(temporary, ignore_errors=True)
