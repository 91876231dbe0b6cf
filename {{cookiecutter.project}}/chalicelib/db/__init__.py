"""PynamoDB models and repositories; the only package that imports pynamodb."""
