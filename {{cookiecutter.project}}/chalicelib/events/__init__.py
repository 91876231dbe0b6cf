"""Event handlers (queues, S3 via SQS, streams, schedules): parse, call one service, report."""
