"""End-to-end tests: flows through a devstack running in a child process on free ports.

The `devstack` fixture (chalice-devstack's pytest plugin) starts it once per session. Run these in a
pytest process of their own (`make e2e`): a `mock_aws` block elsewhere in the same process would not
touch the child's state, but keeping the suites apart keeps it obvious.
"""
