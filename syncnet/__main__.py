import sys

from syncnet.entrypoints.cli import main

sys.exit(main())
