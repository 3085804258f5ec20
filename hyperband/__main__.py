import sys

from hyperband.cli.main import main

sys.exit(main())
