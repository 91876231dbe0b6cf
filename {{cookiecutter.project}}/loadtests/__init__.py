"""Load tests: one locust user class per pattern and the pipeline sections they report; run by `devstack load`."""
