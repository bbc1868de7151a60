import sys

from hotline.cli.main import main

sys.exit(main())
