"""The browser console: one page on the AWS endpoint (`/_devstack/console/`) that watches the running devstack.

- `server.py`: the console's WSGI app (the page, its JSON feed, the redrive action), served by the
  process that holds the app (endpoint.Control hands it `/_devstack/console/...`);
- `feed.py`: the feed, built on the status view's code (chalice_devstack.status) plus what only the
  console shows (queue messages, the state machine graph and an execution's path, shards, schedules);
- `peek.py`: the messages a queue holds, read in the process where moto runs, without receiving them;
- `asl.py`: a state machine's states and transitions, laid out in layers, and an execution's path;
- `static/`: the page (plain HTML, CSS and JS; nothing is built, nothing comes from a CDN).
"""
