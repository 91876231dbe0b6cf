"""Business logic: takes and returns schemas; no chalice, boto3 or pynamodb here."""
