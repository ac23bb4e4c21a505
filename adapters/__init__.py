"""syncnet's ports to the outside world (ICS, feed, CalDAV, importers).

The folder is `adapters/`; it installs as the import package `syncnet_adapters`
because a PyPI package called `adapters` already exists. The core (`syncnet`)
never imports from here; the CLI wires adapters in.
"""
