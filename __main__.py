import sys

from renewal_planner.cli import main

sys.exit(main())
