"""Small helpers for the tutorial notebooks: session setup, names, readable tables and plots.

They never wrap the AWS calls the notebooks teach; those stay in the notebooks, in plain sight.

    import helpers
    setup = helpers.configure(backend="local", region="us-east-1", project="abalone")
    from helpers import views, plots, paths
"""

from helpers.names import Names
from helpers.session import Setup, configure

__all__ = ["Names", "Setup", "configure"]
