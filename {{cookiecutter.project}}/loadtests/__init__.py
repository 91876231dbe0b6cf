"""Load tests: locust users per pattern (locustfile.py), the run driver and the report."""
