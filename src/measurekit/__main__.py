import sys

from measurekit.cli import main

sys.exit(main())
