"""JSON logs with a correlation id, and metrics, via Powertools for AWS Lambda."""

from aws_lambda_powertools import Logger, Metrics

from chalicelib.config import get_settings

_settings = get_settings()

logger = Logger(service=_settings.service_name, level=_settings.log_level)
metrics = Metrics(service=_settings.service_name, namespace=_settings.service_name)
