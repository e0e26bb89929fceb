"""All configuration in one place: defaults here, overridden by ``WARTA_*`` environment variables.

Secrets (API key, password) are ``SecretStr`` so they never print in reprs, logs or reports.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARTA_", extra="ignore")

    # Elasticsearch
    es_url: str = "http://127.0.0.1:9200"
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    es_timeout_s: float = 30.0
    index: str = "warta-articles"

    # Local node started by `warta es start` (Java + Maven, see es/README.md)
    es_home: Path = PROJECT_ROOT / ".warta" / "elasticsearch"
    es_heap: str = "1g"
    es_start_timeout_s: float = 180.0

    # Pipeline
    staging_dir: Path = PROJECT_ROOT / ".warta" / "staging"
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    ner_model: Path = Path(__file__).resolve().parent / "models" / "ner"
    batch_size: int = 100  # articles per batch (one mapped task / one pool job each)
    workers: int = 0  # processes for `warta ingest`; 0 = one per CPU core
    bulk_chunk_size: int = 500
    bulk_max_retries: int = 5
    min_body_chars: int = 200


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; not cached, so tests can override)."""
    return Settings()
