"""``python -m viralshorts <command>``; see viralshorts/cli.py."""

import sys

from viralshorts.cli import main

sys.exit(main())
