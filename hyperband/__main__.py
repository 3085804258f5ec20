import sys

from hyperband.cli import main

sys.exit(main())
