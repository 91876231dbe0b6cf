"""The endpoint child spawned before devstack knows its settings: used once configured, gone when not needed."""

from chalice_devstack.endpoint_child import EndpointChild


def test_a_child_devstack_does_not_use_exits_cleanly_before_binding_anything() -> None:
    # Given: a child spawned early (it imports moto, then waits for its flags)
    child = EndpointChild.spawn()
    # When: devstack discards it (one process, or a start that failed before the endpoint)
    child.discard()
    # Then: it has ended, without an error
    assert child.process.returncode == 0


def test_a_child_without_its_port_says_so_and_ends() -> None:
    # Given: a child spawned early
    child = EndpointChild.spawn()
    # When: its flags lack the ports
    child.configure(["--region", "eu-west-1"], {})
    # Then: it ends as argparse ends on a usage error
    assert child.process.wait(timeout=30) == 2
    child.discard()
