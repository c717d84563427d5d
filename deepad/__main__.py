import sys

from deepad.cli import main

sys.exit(main())
