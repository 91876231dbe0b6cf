"""Seed a stage's reference data: `make seed` runs this; devstack calls seed_all() once provisioned.

Seeding is idempotent: existing items are left alone, so live stock is never reset.
"""

import argparse
import json

from scripts.stage_env import run_script, use_stage


def seed_all() -> dict[str, int]:
    """Create whatever reference data is missing; return how many items of each kind were created."""
    # Imported here, not at the top: chalicelib reads its settings on import, after use_stage().
{%- if cookiecutter.include_orders == 'y' %}
    from chalicelib.services.inventory import seed_products

{%- endif %}

    created: dict[str, int] = {}
{%- if cookiecutter.include_orders == 'y' %}
    created["products"] = seed_products()
{%- endif %}
    return created


def main() -> None:
    """CLI: python -m scripts.seed [--stage dev]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", default="dev")
    use_stage(parser.parse_args().stage)
    print(json.dumps({"created": seed_all()}))


if __name__ == "__main__":
    run_script(main)
