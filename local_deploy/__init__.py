"""Deploy every environment to a local AWS emulator (a moto server), check it, tear it down.

``python -m local_deploy deploy|destroy`` (``make deploy-local`` / ``make destroy-local``).
Nothing here is imported by the app: local settings reach the synthesis only through ``-c local=true``.
"""
from __future__ import annotations

import ddb_datapipeline  # noqa: F401  before any CDK import: jsii starts on the pinned Node (ddb_datapipeline/pinned_node.py)


class LocalDeployError(Exception):
    """A failure the user can act on; its message is one line, printed without a traceback."""
