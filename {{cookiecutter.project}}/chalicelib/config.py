"""Settings read from environment variables, in one cached model."""

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting the service reads; nothing else touches os.environ."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    stage: str = "dev"
    service_name: str = "{{ cookiecutter.project }}"
    aws_region: str = Field(
        default="{{ cookiecutter.aws_region }}",
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    service_table: str = "{{ cookiecutter.project }}-dev-service"
    log_level: str = "INFO"
    cors_allow_origin: str = "*"
    default_page_size: int = Field(default=20, ge=1, le=100)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    # Signs pagination cursors (HMAC), binding each to its query; one per stage, never shared.
    cursor_signing_key: SecretStr = SecretStr("dev-only-cursor-signing-key")
{%- if cookiecutter.include_auth == 'y' %}
    # The Cognito user pool whose tokens the API's authorizer accepts (the packaged stack binds its own pool).
    user_pool_arn: str = "arn:aws:cognito-idp:{{ cookiecutter.aws_region }}:123456789012:userpool/{{ cookiecutter.aws_region }}_UserPool"
{%- endif %}
{%- if cookiecutter.include_orders == 'y' %}
    # Orders: the queue the API feeds, its dead-letter queue, the saga state machine
    # and the Powertools idempotency table behind POST /orders' Idempotency-Key.
    orders_queue: str = "{{ cookiecutter.project }}-dev-orders"
    orders_dlq: str = "{{ cookiecutter.project }}-dev-orders-dlq"
    order_saga: str = "{{ cookiecutter.project }}-dev-order-saga"
    idempotency_table: str = "{{ cookiecutter.project }}-dev-idempotency"
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
{%- endif %}
{%- if cookiecutter.include_stream == 'y' %}
    activity_table: str = "{{ cookiecutter.project }}-dev-activity"
    audit_retention_days: int = Field(default=90, ge=1)
    domain_events_topic: str = "{{ cookiecutter.project }}-dev-domain-events"
    stream_dlq: str = "{{ cookiecutter.project }}-dev-stream-dlq"
{%- endif %}
{%- if cookiecutter.include_schedule == 'y' %}
    # Schedules: how many items one job run touches at most (it resumes next run).
    job_page_size: int = Field(default=100, ge=1, le=1000)
    job_max_pages: int = Field(default=10, ge=1, le=100)
{%- if cookiecutter.include_orders == 'y' %}
    pending_order_max_age_seconds: int = Field(default=900, ge=60)
{%- endif %}
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
    # Uploads: the bucket clients POST to, the queue its object-created notifications
    # feed, the largest file accepted and how long a presigned POST stays valid.
    uploads_bucket: str = "{{ cookiecutter.project }}-dev-uploads"
    uploads_queue: str = "{{ cookiecutter.project }}-dev-upload-events"
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    upload_url_ttl_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
{%- endif %}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once per cold start)."""
    return Settings()
