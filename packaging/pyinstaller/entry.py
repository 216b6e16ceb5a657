"""The frozen program's entry point: the same `shadowmap` command as the console script."""

import sys

from shadowmap.agent.cli import main

if __name__ == "__main__":
    sys.exit(main())
