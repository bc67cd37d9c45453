import sys

from dislab.cli import main

sys.exit(main())
