"""Event sources run as Lambda's event source mappings and async invokers run them: one module per source.

`chalice_devstack.pollers` puts them together (discovery from `app.event_sources`, `Pollers`).
"""
