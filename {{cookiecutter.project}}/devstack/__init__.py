"""devstack: the offline runtime of this service (never packaged into Lambda)."""
