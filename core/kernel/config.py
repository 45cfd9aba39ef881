"""Process configuration, read once from the environment.

| variable | default | meaning |
|---|---|---|
| LINKSTAR_DATABASE_URL | sqlite:///./linkstar.db | SQLite file or postgresql://user@host:port/db |
| LINKSTAR_ENV | development | `production` turns off GraphiQL, introspection and suggestions |
| LINKSTAR_DISABLED_PLUGINS | (none) | comma-separated entry-point names not to load |
| LINKSTAR_STORAGE_DIR | ./var/storage | where uploaded documents are stored |
| LINKSTAR_SECRET_KEY | (dev: generated) | signs access tokens; required in production |
| LINKSTAR_EVALUATION_INTERVAL | 600 | seconds between in-server evaluations of closed months |
| LINKSTAR_TRUSTED_PROXIES | (none) | proxy addresses/CIDRs whose X-Forwarded-For is believed |
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from linkstar.core.kernel.errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///./linkstar.db"
ENVIRONMENTS = ("development", "production")


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated settings; `database_url` already names the async driver."""

    database_url: URL
    environment: str
    disabled_plugins: tuple[str, ...]
    storage_dir: str
    secret_key: str
    # seconds between the in-server scheduler's runs (closed months evaluated at close); 0: off
    evaluation_interval: float = 0
    # Reverse proxies whose X-Forwarded-For is believed; none by default, so nothing on the
    # host can choose the address that the audit log and the per-address limits see.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check the LINKSTAR_* variables; a bad value is a ConfigurationError."""
        env = os.environ if env is None else env
        environment = env.get("LINKSTAR_ENV", "development").strip().lower()
        if environment not in ENVIRONMENTS:
            raise ConfigurationError(
                f"LINKSTAR_ENV={environment!r} is not one of {', '.join(ENVIRONMENTS)}"
            )
        disabled = tuple(
            sorted(
                {
                    p.strip()
                    for p in env.get("LINKSTAR_DISABLED_PLUGINS", "").split(",")
                    if p.strip()
                }
            )
        )
        storage_dir = env.get("LINKSTAR_STORAGE_DIR", "./var/storage")
        raw_interval = env.get("LINKSTAR_EVALUATION_INTERVAL", "600").strip()
        try:
            interval = float(raw_interval)
        except ValueError:
            interval = -1.0
        if not 0 <= interval <= 86400:
            raise ConfigurationError(
                f"LINKSTAR_EVALUATION_INTERVAL={raw_interval!r} is not a number of seconds",
                suggestion="e.g. 600 (every ten minutes), or 0 to leave evaluation to cron",
            )
        return cls(
            database_url=async_database_url(
                env.get("LINKSTAR_DATABASE_URL") or DEFAULT_DATABASE_URL
            ),
            environment=environment,
            disabled_plugins=disabled,
            storage_dir=storage_dir,
            secret_key=_secret_key(env, environment, storage_dir),
            evaluation_interval=interval,
            trusted_proxies=parse_trusted_proxies(env.get("LINKSTAR_TRUSTED_PROXIES", "")),
        )


def parse_trusted_proxies(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`10.0.0.1, 10.1.0.0/16` → networks; a bad entry is a ConfigurationError."""
    networks = []
    for part in raw.split(","):
        if not part.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise ConfigurationError(
                f"LINKSTAR_TRUSTED_PROXIES: {part.strip()!r} is not an IP address or CIDR",
                suggestion="e.g. LINKSTAR_TRUSTED_PROXIES=10.0.0.5,10.1.0.0/16",
            ) from None
    return tuple(networks)


def async_database_url(raw: str) -> URL:
    """Turn a user-facing URL into one with the async driver (aiosqlite / psycopg)."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigurationError(
            f"LINKSTAR_DATABASE_URL is not a database URL: {raw!r}",
            suggestion="use sqlite:///path/to/file.db or postgresql://user@host:5432/dbname",
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise ConfigurationError(
                "LINKSTAR_DATABASE_URL must name a SQLite file, not an in-memory database",
                suggestion="e.g. sqlite:///./linkstar.db",
            )
        return url.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    raise ConfigurationError(
        f"LINKSTAR_DATABASE_URL uses {backend!r}; LinkStar runs on SQLite or PostgreSQL",
        suggestion="use sqlite:///path/to/file.db or postgresql://user@host:5432/dbname",
    )


MIN_SECRET_LENGTH = 32
GENERATE_KEY = 'generate one: python3 -c "import secrets; print(secrets.token_urlsafe(48))"'


def _secret_key(env: Mapping[str, str], environment: str, storage_dir: str) -> str:
    """The token-signing key: from the environment, or (development only) a generated file.

    Every app process must use the same key, so production refuses to start without one.
    """
    key = env.get("LINKSTAR_SECRET_KEY", "")
    if key:
        if len(key) < MIN_SECRET_LENGTH:
            raise ConfigurationError(
                f"LINKSTAR_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters",
                suggestion=GENERATE_KEY,
            )
        return key
    if environment == "production":
        raise ConfigurationError(
            "LINKSTAR_SECRET_KEY is required in production (all app processes must share it)",
            suggestion=GENERATE_KEY,
        )
    path = os.path.join(os.path.dirname(os.path.abspath(storage_dir)), "secret.key")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        # Written aside then hard-linked: when several workers start at once, one key wins
        # atomically and nobody ever reads a half-written file.
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    with open(path) as handle:
        key = handle.read().strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigurationError(f"the development key file {path} is too short; delete it")
    return key
