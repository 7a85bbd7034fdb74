"""One settings object, from ``HUTONG_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Node settings. Every limit, deadline and weight is a setting with a default."""

    model_config = SettingsConfigDict(env_prefix="HUTONG_", extra="ignore")

    home: Path = Field(default=Path("./var"), description="Node home: database, keys, uploads")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite (WAL) at $HUTONG_HOME/hutong.db"
    )
    db_pool_size: int = Field(
        default=45,
        ge=1,
        description="Database connections each process keeps open: one per request thread "
        "(40) and the background threads (audit writer, checkpointer, senders)",
    )
    db_max_overflow: int = Field(
        default=20, ge=0, description="Connections opened beyond the pool under a burst"
    )
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL of the node")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_json: bool = Field(default=True, description="JSON log lines (false: plain text)")

    max_upload_bytes: int = Field(default=512 * 1024 * 1024, description="Largest upload accepted")
    max_json_body_bytes: int = Field(default=2 * 1024 * 1024, description="Largest JSON body")
    ingest_batch_rows: int = Field(default=131072, description="Rows per ingest batch")
    ingest_report_problems: int = Field(default=100, description="Problems named in a report")

    page_size_default: int = Field(default=20, description="Default page size of lists")
    page_size_max: int = Field(default=1000, description="Largest page size of lists")
    session_hours: int = Field(default=8, description="Login session lifetime for pages")
    api_key_prefix: str = Field(default="ht_", description="Prefix of issued API keys")

    application_operator_days: int = Field(
        default=2, description="Working days for the operator to check an application"
    )
    application_provider_days: int = Field(
        default=5, description="Working days for a provider to answer a conditional application"
    )
    application_provider_days_offline: int = Field(
        default=10, description="Working days for a provider whose data is not yet on the platform"
    )
    extra_holidays: str = Field(
        default="", description="Extra non-working days, comma-separated ISO dates"
    )
    extra_workdays: str = Field(
        default="", description="Extra working days (adjusted weekends), comma-separated ISO dates"
    )
    audit_checkpoint_seconds: float = Field(
        default=1.0, description="Seconds between signed checkpoints while entries arrive (0: off)"
    )
    audit_max_batch: int = Field(default=5000, description="Most entries in one group commit")
    audit_commit_delay_ms: float = Field(
        default=0.0,
        ge=0,
        le=100,
        description="Milliseconds the audit writer waits for more entries before a commit, "
        "when the last commit was shared (0: none)",
    )
    audit_keeper: bool = Field(
        default=False,
        description="Append the audit entries of all worker processes in one keeper process "
        "(Linux; a database file or server); off: each worker's own writer thread",
    )
    audit_keeper_idle_seconds: float = Field(
        default=5.0, gt=0, description="Seconds the audit keeper stays with no worker connected"
    )
    audit_write_timeout_seconds: float = Field(
        default=30.0, description="Longest wait for an audit entry to become durable"
    )
    gc_freeze: bool = Field(
        default=True,
        description="After the app starts, move every object then alive out of the garbage "
        "collector's reach (gc.freeze): its full collections then take milliseconds, not a "
        "tenth of a second with every request waiting",
    )
    pi_scan_sample_rows: int = Field(default=1000, description="Rows sampled by `pi scan`")
    gateway_rate_per_second: float = Field(
        default=20.0,
        description="Gateway calls a second per grant, per gateway process (token bucket; 0: off)",
    )
    gateway_fast_lane: bool = Field(
        default=True,
        description="Answer common key lookups in the gateway's fast lane (decision 0015)",
    )
    gateway_rate_burst: int = Field(
        default=40, description="Gateway calls a grant may make at once, per gateway process"
    )
    gateway_bulk_batch_rows: int = Field(
        default=65536, description="Most rows per batch of a bulk snapshot (bounds its memory)"
    )
    gateway_bulk_read_ahead: int = Field(
        default=2,
        ge=0,
        description="Batches a bulk snapshot reads and encodes ahead of the send, each on a "
        "thread of its own (0: all on one thread)",
    )
    gateway_bulk_subjects_max: int = Field(
        default=10000,
        description="Bulk snapshots of at most this many rows list their data subjects in the "
        "audit entry; larger ones record fields, batches and row count only",
    )
    upstream_timeout_seconds: float = Field(
        default=5.0,
        description="Timeout of a call to a provider's API when its registration names none",
    )
    upstream_timeout_max_seconds: float = Field(
        default=10.0, description="Longest timeout of a call to a provider's API (caps each one)"
    )
    upstream_max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        description="Largest answer read from a provider's API (larger: 502, stopped while read)",
    )
    upstream_breaker_failures: int = Field(
        default=5, description="Failed calls in a row that open a provider API's circuit breaker"
    )
    upstream_breaker_reset_seconds: float = Field(
        default=30.0, description="Seconds an open circuit breaker waits before a trial call"
    )

    webhook_timeout_seconds: float = Field(
        default=10.0, description="Longest wait for a webhook receiver to answer"
    )
    webhook_max_attempts: int = Field(
        default=8, description="Attempts to deliver a webhook before it is marked failed"
    )
    webhook_backoff_seconds: float = Field(
        default=30.0, description="Wait before the second attempt; doubles after each failure"
    )
    webhook_backoff_max_seconds: float = Field(
        default=3600.0, description="Longest wait between two attempts of a webhook"
    )
    webhook_sender_interval_seconds: float = Field(
        default=5.0,
        description="Seconds between outbox polls of the web process's webhook sender (0: off)",
    )
    objection_verify_days: int = Field(
        default=5, description="Working days for a provider to verify an objection"
    )
    objection_verify_days_extended: int = Field(
        default=10, description="Working days to verify an objection after an approved extension"
    )
    objection_operator_days: int = Field(
        default=2, description="Working days for the operator to act on an escalated objection"
    )
    objection_appeal_days: int = Field(
        default=15, description="Working days a filer has to appeal a rejection to the operator"
    )
    objection_recipient_window_days: int = Field(
        default=365,
        description="A correction reaches organizations that received the record this many "
        "days before it",
    )
    objection_evidence_max_bytes: int = Field(
        default=10 * 1024 * 1024, description="Largest evidence file of an objection"
    )
    objection_evidence_max_files: int = Field(
        default=10, description="Most evidence files per objection"
    )

    quality_rules_max_bytes: int = Field(
        default=256 * 1024, description="Largest quality rule file (YAML or JSON) accepted"
    )
    quality_rules_max: int = Field(default=200, description="Most quality rules per resource")
    quality_pattern_max_length: int = Field(
        default=200, description="Longest regular expression in a pattern rule"
    )
    quality_sample_rows: int = Field(
        default=10, description="Failing rows kept (masked) per rule in an evaluation report"
    )
    quality_reference_max_values: int = Field(
        default=1_000_000,
        description="Most distinct values of a reference column the ingest gate loads",
    )
    quality_quarantine_max_rows: int = Field(
        default=100_000,
        description="Most rows one batch may put in quarantine; beyond it the batch is rejected",
    )
    quality_default_cadence_hours: int = Field(
        default=24, description="Hours between periodic evaluations of a rule set without one"
    )
    quality_objection_window_days: int = Field(
        default=365,
        ge=1,
        description="Confirmed objections of this many days count against a resource's accuracy",
    )
    quality_alert_threshold: float = Field(
        default=80.0, description="A resource score (0-100) below this raises a quality alert"
    )
    quality_update_grace_days: int = Field(
        default=1, description="Days past its update cycle before a resource is alerted as late"
    )
    quality_weight_conformity: float = Field(default=1.0, description="Weight of 规范性")
    quality_weight_completeness: float = Field(default=1.0, description="Weight of 完整性")
    quality_weight_accuracy: float = Field(default=1.0, description="Weight of 准确性")
    quality_weight_consistency: float = Field(default=1.0, description="Weight of 一致性")
    quality_weight_timeliness: float = Field(default=1.0, description="Weight of 时效性")
    quality_weight_accessibility: float = Field(default=1.0, description="Weight of 可访问性")
    worker_poll_seconds: float = Field(
        default=60.0, description="Seconds between rounds of `hutong worker` over its jobs"
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'hutong.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
