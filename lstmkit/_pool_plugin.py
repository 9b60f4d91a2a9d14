"""The Dask worker plugin of lstmkit's local pools (imported only where Dask is)."""

import sys

from distributed.diagnostics.plugin import WorkerPlugin


class ClientPath(WorkerPlugin):
    """Puts the client's module path on every local worker, present and restarted.

    The workers then import what the script imports from its own folder
    (custom layer classes, functions given to parfeval), as MATLAB's local
    pool adds the client's path (AutoAddClientPath).  Dask sends the plugin
    as a reference to this class and its list of folders.
    """

    name = "lstmkit-client-path"

    def __init__(self, path):
        self.path = list(path)

    def setup(self, worker):
        for entry in reversed(self.path):
            if entry not in sys.path:
                sys.path.insert(1, entry)
