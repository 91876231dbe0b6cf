"""Application code packaged with every Lambda function."""
