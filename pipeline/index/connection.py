"""The client, and what Warta may do on a secured cluster: connect, the least-privilege role, the
access check every run makes before its first step."""

from __future__ import annotations

from typing import Any

from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    Elasticsearch,
)

from pipeline.settings import Settings


def connect(settings: Settings) -> Elasticsearch:
    """A client for ``settings.es_url`` (one URL, or several nodes' comma-separated), with basic
    auth or an API key when configured, and TLS verified against ``es_ca_certs`` (or the system
    CAs) for https URLs."""
    auth: dict[str, Any] = {}
    if settings.es_api_key is not None:
        auth["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        auth["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_ca_certs is not None:
        auth["ca_certs"] = str(settings.es_ca_certs)
    if settings.es_url.startswith("https://"):
        auth["verify_certs"] = settings.es_verify_certs
    return Elasticsearch(
        # Several nodes of one cluster, comma-separated: requests go round them, past a lost one.
        [url.strip() for url in settings.es_url.split(",")],
        request_timeout=settings.es_timeout_s,
        retry_on_timeout=True,
        max_retries=3,
        **auth,
    )


def least_privilege_role(settings: Settings) -> dict[str, Any]:
    """The privileges Warta needs on a secured cluster, and no more: a role body for
    ``PUT _security/role/<name>`` or an API key's ``role_descriptors`` (``warta es role``).

    Cluster: ``monitor`` (health, node info: the access check and the reindex probe) and
    ``manage_index_templates`` (its component and index templates). Indices: only Warta's own
    (articles with their versions and aliases, run ledger, dead letters, fetch state), with
    ``manage`` (create, mappings, settings, aliases, refresh, delete retired versions), ``write``
    and ``read``."""
    names = [settings.index, settings.runs_index, settings.dead_letter_index, settings.fetch_state_index]
    return {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [{"names": [f"{n}*" for n in names], "privileges": ["manage", "write", "read"]}],
    }


class AccessDenied(RuntimeError):
    """The cluster refuses Warta's credentials, or their privileges; raised before anything is
    written, so a run with a wrong password or an expired key leaves no trace in the cluster."""


def check_access(settings: Settings) -> None:
    """Fail fast and clearly when the cluster refuses the configured credentials: one request
    (cluster health, which the least-privilege role allows through ``monitor``), no retries."""
    client = connect(settings)
    try:
        client.options(max_retries=0).cluster.health()
    except AuthenticationException as err:
        raise AccessDenied(
            f"Elasticsearch at {settings.es_url} refused the credentials (HTTP 401: "
            f"{_reason(err)}). Check WARTA_ES_USERNAME and WARTA_ES_PASSWORD, or WARTA_ES_API_KEY "
            f"(in Airflow: the Connection {settings.es_conn_id}); an expired or invalidated API "
            "key needs a new one. Nothing was written."
        ) from None
    except AuthorizationException as err:
        raise AccessDenied(
            f"Elasticsearch at {settings.es_url} accepted the credentials but refuses this "
            f"request (HTTP 403: {_reason(err)}). Give the user or key the role in "
            "docs/reliability-and-security.md. Nothing was written."
        ) from None
    finally:
        client.close()


def _reason(err: ApiError) -> str:
    """The server's reason, which names the user and the action, never the secret."""
    body = err.body if isinstance(err.body, dict) else {}
    error = body.get("error")
    return str(error.get("reason") if isinstance(error, dict) else err.message)
