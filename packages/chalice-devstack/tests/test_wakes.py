"""The pollers' wake-ups: notices now, notices due later, and the pipe from the endpoint child."""

import os
import threading

from chalice_devstack.triggers.wakes import Wake, Wakes, pipe_notifier, relay_notices

LONGER_THAN_ANY_TEST = 600.0


def test_a_notice_between_reading_and_waiting_is_not_lost() -> None:
    # Given: a poller took the count, then read its source and found nothing
    wake = Wake()
    seen = wake.count

    # When: a notice comes before it waits
    wake.notify()

    # Then: the wait returns at once with the new count
    assert wake.wait(seen, LONGER_THAN_ANY_TEST) == seen + 1


def test_a_notice_due_later_wakes_a_waiter_then() -> None:
    # Given: a waiter with no notice now, and one due shortly (a message turning visible)
    wake = Wake()
    seen = wake.count
    wake.notify(delay=0.05)

    # When / Then: the wait ends with a new count although its timeout is far away
    assert wake.wait(seen, LONGER_THAN_ANY_TEST) == seen + 1


def test_notices_cross_the_pipe_from_the_endpoint_child() -> None:
    # Given: a registry waiting on one key, fed by a pipe
    wakes = Wakes()
    wake = wakes.get("sqs:jobs")
    seen = wake.count
    read_fd, write_fd = os.pipe()
    relay_notices(read_fd, wakes)
    notify = pipe_notifier(write_fd)
    woken = threading.Event()
    waiter = threading.Thread(target=lambda: woken.set() if wake.wait(seen, LONGER_THAN_ANY_TEST) != seen else None)
    waiter.start()

    # When: the child reports a key nobody waits on, then the queue
    notify("sqs:other", 0.0)
    notify("sqs:jobs", 0.0)
    waiter.join(LONGER_THAN_ANY_TEST)
    os.close(write_fd)

    # Then: the queue's waiter woke
    assert woken.is_set()
