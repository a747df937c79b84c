import sys

from local_aws.core.cli import main

sys.exit(main())
